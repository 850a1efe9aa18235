// Plain TCP servers that fail as a SQL Server can (accept then hang, close at once, refuse TLS at PRELOGIN), counting connections.
import { createServer, type Server, type Socket } from 'node:net';

export type TcpFault = 'hang' | 'close-at-once' | 'prelogin-plain';

export interface FaultServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** TDS packet types received, in order, over all connections (0x12 PRELOGIN, 0x10 LOGIN7 …). */
  readonly packetTypes: number[];
  /** Resolves once every accepted connection has closed. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

/** A PRELOGIN reply with VERSION and ENCRYPTION = 0x02 (encryption not supported), in one tabular-result packet. */
function preloginNotSupported(): Buffer {
  const payload = Buffer.from([0x00, 0x00, 0x0b, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xff, 0x10, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x02]);
  const header = Buffer.from([0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00]);
  header.writeUInt16BE(header.length + payload.length, 2);
  return Buffer.concat([header, payload]);
}

export async function startFaultServer(fault: TcpFault): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  const packetTypes: number[] = [];
  let connections = 0;
  let waiters: (() => void)[] = [];
  const settle = () => {
    if (sockets.size > 0) return;
    for (const w of waiters) w();
    waiters = [];
  };
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      settle();
    });
    if (fault === 'close-at-once') {
      socket.destroy();
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      packetTypes.push(chunk[0]!);
      if (fault === 'prelogin-plain' && chunk[0] === 0x12) socket.write(preloginNotSupported());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    get connections() {
      return connections;
    },
    packetTypes,
    allClosed: () => new Promise<void>((resolve) => {
      waiters.push(resolve);
      settle();
    }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
