// The TDS test peer: a TDS 7.4 server on loopback that the real `mssql` client talks to, answered from PostgreSQL.
import { type Server, type Socket, createServer } from 'node:net';
import { PeerConnection } from './connection.js';
import type { ExecuteOptions, Queryable } from './executor.js';
import type { PeerFaults, PeerStats } from './faults.js';
import type { ServerError } from './tokens.js';
import type { ServerCertificate } from './tls-bridge.js';

export type { PeerFaults, PeerStats, LoginRecord } from './faults.js';
export { DEADLOCK_VICTIM, LOGIN_FAILED } from './faults.js';

export interface TdsPeerOptions extends ExecuteOptions {
  /**
   * Where the received T-SQL runs, translated to PostgreSQL. Give it a session in UTC (`-c TimeZone=UTC`: SQL Server's
   * datetimes carry no zone, so MONTH() and dates compared with datetimes must not move) and a `search_path` naming
   * the schema that holds the tables the T-SQL names bare or as dbo.X (one peer per source database).
   */
  readonly db: Queryable;
  /** The server's certificate (tdsTestCa() makes one for 127.0.0.1 and localhost). */
  readonly certificate: ServerCertificate;
  readonly faults?: PeerFaults;
}

/**
 * `TdsPeer.start({ db, certificate: await tdsTestCa() })`, then point mssql at `localhost:peer.port` with
 * `options: { encrypt: true, cryptoCredentialsDetails: { ca: caPem } }`. Faults: `inject({ … })` and
 * `refuseConnections()` / `acceptConnections()`; what it saw: `stats`.
 */
export class TdsPeer {
  readonly stats: PeerStats = { connections: 0, closed: 0, logins: [], queries: [], parameters: [], attentions: 0, stalled: 0 };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private current: PeerFaults;
  private queryErrorsLeft = 0;
  private listeningPort = 0;

  private constructor(private readonly options: TdsPeerOptions) {
    this.current = {};
    this.inject(options.faults ?? {});
  }

  /** Starts a peer on 127.0.0.1 and a free port. */
  static async start(options: TdsPeerOptions): Promise<TdsPeer> {
    const peer = new TdsPeer(options);
    await peer.acceptConnections();
    return peer;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** Replaces the scripted faults (an empty object clears them); live connections see the change at once. */
  inject(faults: PeerFaults): void {
    this.current = faults;
    this.queryErrorsLeft = faults.queryError ? (faults.queryError.times ?? Number.POSITIVE_INFINITY) : 0;
  }

  /** Closes the listener (the port then refuses connections) and cuts the open connections. */
  async refuseConnections(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again, on the same port once one was chosen. */
  async acceptConnections(): Promise<void> {
    if (this.server) return;
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listeningPort, '127.0.0.1', () => resolve());
    });
    this.listeningPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  async close(): Promise<void> {
    await this.refuseConnections();
  }

  private accept(socket: Socket): void {
    this.stats.connections += 1;
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.stats.closed += 1;
    });
    socket.on('error', () => undefined);
    if (this.current.closeAtOnce) {
      socket.destroy();
      return;
    }
    if (this.current.hang) return;
    new PeerConnection(socket, {
      db: this.options.db,
      certificate: this.options.certificate,
      executeOptions: { datetimeColumns: this.options.datetimeColumns },
      faults: () => this.current,
      takeQueryError: () => this.takeQueryError(),
      onLogin: (login) => this.stats.logins.push(login),
      onQuery: (statement, params) => {
        this.stats.queries.push(statement);
        this.stats.parameters.push(params);
      },
      onAttention: () => {
        this.stats.attentions += 1;
      },
      onStalled: () => {
        this.stats.stalled += 1;
      },
    });
  }

  private takeQueryError(): ServerError | undefined {
    const fault = this.current.queryError;
    if (!fault || this.queryErrorsLeft <= 0) return undefined;
    this.queryErrorsLeft -= 1;
    return fault.error;
  }
}
