// One mssql ConnectionPool per source: TLS with the utility's CA, our own refusal of plain text, a deadline on every query.
import sql from 'mssql';
import type { Clock, TimerHandle } from '../../clock.js';
import { SourceNotEncryptedError, SourceTimeoutError } from './source-errors.js';
import type { SourceQuery, SourceRow } from './source-messages.js';
import { addParams } from './source-param-types.js';

/** What the source actor needs of a pool: the real one below, or a test's fake for the paths no TDS server here can show. */
export interface SourcePool {
  /** Opens the pool (mssql logs in once to test); rejects with the driver's error. */
  connect(): Promise<void>;
  /** Runs one query; past `deadlineMs` it is cancelled, its connection retired, and SourceTimeoutError thrown. */
  run(query: SourceQuery, deadlineMs: number): Promise<SourceRow[]>;
  /** False once the driver saw its connections fail (mssql's `healthy`). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

export interface SourcePoolHooks {
  readonly clock: Clock;
  /** The pool's `error` events: always listened to (unheard, a socket killed mid-reply crashes the process). */
  onError(error: unknown): void;
}

export type SourcePoolFactory = (hooks: SourcePoolHooks) => SourcePool;

export interface MssqlSourceSettings {
  readonly source: string;
  readonly server: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** The utility's CA (PEM), trusted explicitly; undefined: Node's roots. Verification is never off. */
  readonly ca: string | undefined;
  readonly connectTimeoutMs: number;
  /** tedious's requestTimeout (first reply packet only); the deadline of `run` bounds the whole query. */
  readonly requestTimeoutMs: number;
  readonly poolMax: number;
  readonly appName: string;
}

type LoginHook = { sendLogin7Packet?: (...args: unknown[]) => unknown };

/**
 * Refuses to log in unless TLS was negotiated: tedious 19 with `encrypt: true` silently goes plain when the server
 * answers PRELOGIN "encryption not supported". The login is sent by `sendLogin7Packet`, after TLS when there is
 * any, and tedious emits `secure` when its TLS handshake completes; without that event the login is never sent.
 */
export function guardEncryption(source: string, conn: sql.Connection): void {
  const hook = conn as unknown as LoginHook;
  const send = hook.sendLogin7Packet;
  if (typeof send !== 'function') {
    // A tedious upgrade moved the method: fail loudly rather than connect without the check.
    (conn as unknown as { close(): void }).close();
    throw new Error('tedious no longer has Connection.sendLogin7Packet: the encryption check cannot be installed');
  }
  let secure = false;
  (conn as unknown as NodeJS.EventEmitter).once('secure', () => {
    secure = true;
  });
  hook.sendLogin7Packet = function (this: unknown, ...args: unknown[]) {
    // Thrown inside tedious's connect: it destroys the socket and fails the connect with this error.
    if (!secure) throw new SourceNotEncryptedError(source);
    return send.apply(this, args);
  };
}

export function mssqlPoolFactory(settings: MssqlSourceSettings): SourcePoolFactory {
  return ({ clock, onError }) => {
    const pool = new sql.ConnectionPool({
      server: settings.server,
      port: settings.port,
      database: settings.database,
      user: settings.user,
      password: settings.password,
      connectionTimeout: settings.connectTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // An acquire waits at most one connect plus its login; idle connections are let go.
      pool: { max: settings.poolMax, min: 0, idleTimeoutMillis: 30_000, acquireTimeoutMillis: settings.connectTimeoutMs * 2, createTimeoutMillis: settings.connectTimeoutMs },
      // A socket check instead of a SELECT 1 round trip on every acquire; a dead connection still fails its query.
      validateConnection: 'socket',
      options: {
        encrypt: true,
        trustServerCertificate: false,
        ...(settings.ca ? { cryptoCredentialsDetails: { ca: settings.ca } } : {}),
        appName: settings.appName,
      },
      beforeConnect: (conn) => guardEncryption(settings.source, conn),
    });
    pool.on('error', onError);
    return {
      connect: async () => {
        await pool.connect();
      },
      get healthy() {
        return pool.healthy;
      },
      run: (query, deadlineMs) => runWithDeadline(pool, settings.source, clock, query, deadlineMs),
      close: async () => {
        await pool.close();
      },
    };
  };
}

type AcquireCallback = (err: Error | null, connection?: sql.Connection, config?: unknown) => void;

/** Exported for its unit test, which drives it over mssql's own Request with a connection that never answers. */
export async function runWithDeadline(pool: sql.ConnectionPool, source: string, clock: Clock, query: SourceQuery, deadlineMs: number): Promise<SourceRow[]> {
  // The request borrows through this lease (mssql's Transaction does the same), so the connection it ran on is
  // known and can be retired when the deadline passes.
  let connection: sql.Connection | undefined;
  const lease = Object.create(pool) as sql.ConnectionPool & { acquire(requester: unknown, cb: AcquireCallback): unknown };
  lease.acquire = (requester: unknown, cb: AcquireCallback) =>
    (pool as unknown as { acquire(r: unknown, cb: AcquireCallback): unknown }).acquire(requester, (err, conn, config) => {
      connection = conn;
      cb(err, conn, config);
    });
  const request = new sql.Request(lease);
  addParams(request, query.params);
  let timer: TimerHandle | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      // Rejected first: closing the connection fails the request at once (ECLOSE), and the race takes whichever
      // settled first, so the caller would read a lost connection instead of our deadline.
      reject(new SourceTimeoutError(source, query.name, deadlineMs));
      // ATTENTION asks the server to stop; closing the connection retires it (a stalled reply never ends otherwise,
      // and the server aborts a closed session's batch anyway). The pool drops a closed connection at its next acquire.
      request.cancel();
      (connection as unknown as { close?: () => void } | undefined)?.close?.();
    }, deadlineMs);
  });
  try {
    const result = await Promise.race([request.query<SourceRow>(query.tsql), deadline]);
    return result.recordset ? [...result.recordset] : [];
  } finally {
    clock.clearTimeout(timer);
  }
}
