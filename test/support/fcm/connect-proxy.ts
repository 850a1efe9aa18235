// A minimal HTTP CONNECT proxy on 127.0.0.1 that tunnels every CONNECT, whatever host:port is asked, to one
// fixed target (the fake FCM), so a client configured with a proxy URL reaches "fcm.googleapis.com:443" for real
// through a proxy. TLS runs end to end inside the tunnel: the proxy never sees plaintext, the client still
// verifies the server certificate against the name it asked for. Anything other than CONNECT gets 405.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface ConnectProxyOptions {
  target: { host: string; port: number };
}

export interface ConnectProxy {
  readonly port: number;
  /** http://127.0.0.1:PORT — the proxy URL to give a client. */
  readonly url: string;
  /** Tunnels opened since start (or reset). */
  tunnels(): number;
  /** The authorities asked for, in order (e.g. "fcm.googleapis.com:443"). */
  authorities(): readonly string[];
  /** Tunnels currently open. */
  openTunnels(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startConnectProxy(options: ConnectProxyOptions): Promise<ConnectProxy> {
  const asked: string[] = [];
  const open = new Set<Duplex>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain', connection: 'close' });
    res.end('CONNECT only\n');
  });
  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    asked.push(req.url ?? '');
    const upstream = net.connect(options.target.port, options.target.host);
    open.add(client);
    open.add(upstream);
    let connected = false;
    const cleanup = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', cleanup);
    client.on('close', cleanup);
    upstream.on('error', (error) => {
      if (client.writable && !connected) {
        client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\n${error.message}\n`);
      }
      cleanup();
    });
    upstream.on('close', cleanup);
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    tunnels: () => asked.length,
    authorities: () => asked,
    openTunnels: () => open.size / 2,
    reset: () => {
      asked.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
