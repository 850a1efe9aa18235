// Opens the TLS socket an HTTP/2 session runs on: direct, through the dial seam, or inside the HTTP proxy's CONNECT
// tunnel (TLS end to end inside it), with ALPN h2 required and the whole within the connect timeout.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { asTransportError, H2TransportError } from './h2-transport-error.js';

/** The client's options the dial reads (H2SessionClientOptions documents each). */
export interface DialOptions {
  readonly proxyUrl?: string | undefined;
  readonly dialOverride?: { readonly host: string; readonly port: number } | undefined;
  readonly connectTimeoutMs: number;
}

/** A TLS socket to the origin that negotiated h2: direct, via the dial seam, or through the proxy tunnel. */
export async function dialH2(url: URL, secureContext: tls.SecureContext | undefined, options: DialOptions): Promise<tls.TLSSocket> {
  const servername = url.hostname;
  const port = Number(url.port || 443);
  const deadline = options.connectTimeoutMs;
  let tunnel: Duplex | undefined;
  const tlsOptions: tls.ConnectionOptions = {
    servername,
    ALPNProtocols: ['h2'],
    ...(secureContext ? { secureContext: secureContext } : {}),
  };
  const started = Date.now();
  if (options.proxyUrl) tunnel = await proxyTunnel(options.proxyUrl, secureContext, `${servername}:${port}`, deadline);
  const remaining = Math.max(1, deadline - (Date.now() - started));
  const dial = options.dialOverride;
  const socket = tunnel
    ? tls.connect({ ...tlsOptions, socket: tunnel })
    : tls.connect({ ...tlsOptions, host: dial?.host ?? servername, port: dial?.port ?? port });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new H2TransportError(`TLS handshake with ${servername} not done within ${deadline} ms`, 'timeout'));
    }, remaining);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve();
    });
    const onError = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(asTransportError(error, `TLS to ${servername} failed`));
    };
    socket.once('error', onError);
  });
  if (socket.alpnProtocol !== 'h2') {
    socket.destroy();
    throw new H2TransportError(`${servername} did not negotiate HTTP/2 (ALPN: ${String(socket.alpnProtocol)})`, 'network');
  }
  return socket;
}

function proxyTunnel(proxyUrl: string, secureContext: tls.SecureContext | undefined, authority: string, timeoutMs: number): Promise<Duplex> {
  const proxy = new URL(proxyUrl);
  const headers: http.OutgoingHttpHeaders = { host: authority };
  if (proxy.username || proxy.password) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const secure = proxy.protocol === 'https:';
  const request = (secure ? https : http).request({
    host: proxy.hostname,
    port: Number(proxy.port || (secure ? 443 : 80)),
    method: 'CONNECT',
    path: authority,
    headers,
    agent: false,
    ...(secure && secureContext ? { secureContext: secureContext } : {}),
  });
  return new Promise<Duplex>((resolve, reject) => {
    const timer = setTimeout(() => {
      request.destroy();
      reject(new H2TransportError(`proxy CONNECT to ${authority} not answered within ${timeoutMs} ms`, 'timeout'));
    }, timeoutMs);
    request.once('connect', (response: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      clearTimeout(timer);
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(new H2TransportError(`proxy answered CONNECT ${authority} with ${response.statusCode} ${response.statusMessage ?? ''}`.trim(), 'network'));
        return;
      }
      // Bytes after the proxy's answer belong to the tunnel (none expected: the client speaks first in TLS).
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.once('error', (error) => {
      clearTimeout(timer);
      reject(asTransportError(error, `proxy ${proxy.host} unreachable`));
    });
    request.end();
  });
}
