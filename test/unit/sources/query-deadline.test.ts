import { EventEmitter } from 'node:events';
import type sql from 'mssql';
import { describe, expect, it } from 'vitest';
import type { SourceQuery } from '../../../src/adapters/mssql/source-messages.js';
import { runWithDeadline } from '../../../src/adapters/mssql/source-pool.js';
import { ManualClock } from '../../../src/clock.js';

const QUERY: SourceQuery = { name: 'bills-of-account', tsql: 'SELECT [numFact] FROM [Historique] WHERE [numCC] = @account', twin: '', params: { account: '000123456789' } };

/** A tedious connection that takes the request and never answers (a reply stalled half-way looks the same to the client). */
class SilentConnection extends EventEmitter {
  requests: { sqlTextOrProcedure?: string; callback(err?: Error, rowCount?: number, rows?: unknown[]): void }[] = [];
  cancels = 0;
  closes = 0;
  execSql(request: SilentConnection['requests'][number]) {
    this.requests.push(request);
  }
  cancel() {
    this.cancels++;
    return true;
  }
  close() {
    this.closes++;
  }
}

/** As tedious's own: closing fails the request under way at once (ECLOSE), inside close(). */
class ClosingConnection extends SilentConnection {
  override close() {
    super.close();
    for (const request of this.requests.splice(0)) request.callback(Object.assign(new Error('Connection closed before request completed.'), { code: 'ECLOSE' }));
  }
}

/** The pool side mssql's Request reads: connected, its config, and acquire/release of one connection. */
function poolOf(connection: SilentConnection) {
  const released: unknown[] = [];
  const pool = {
    connected: true,
    config: {},
    acquire(_requester: unknown, cb: (err: Error | null, c?: unknown, config?: unknown) => void) {
      process.nextTick(cb, null, connection, {});
      return pool;
    },
    release(c: unknown) {
      released.push(c);
      return pool;
    },
  };
  return { pool: pool as unknown as sql.ConnectionPool, released };
}

describe('query deadline', () => {
  it('cancels a query that does not finish within its deadline and retires its connection', async () => {
    const connection = new SilentConnection();
    const { pool } = poolOf(connection);
    const clock = new ManualClock();
    const running = runWithDeadline(pool, 'histh2mc', clock, QUERY, 2_000);
    const outcome = running.then(
      () => 'answered',
      (e: unknown) => e,
    );
    while (connection.requests.length === 0) await new Promise((r) => setImmediate(r));
    clock.advance(1_999);
    expect(connection.cancels).toBe(0);
    clock.advance(1);
    expect(await outcome).toMatchObject({ code: 'SOURCE_TIMEOUT', source: 'histh2mc', query: 'bills-of-account', deadlineMs: 2_000 });
    expect(connection.cancels).toBe(1);
    expect(connection.closes).toBe(1);
  });

  it('answers SOURCE_TIMEOUT even though closing the connection fails the request at once (ECLOSE)', async () => {
    const connection = new ClosingConnection();
    const { pool } = poolOf(connection);
    const clock = new ManualClock();
    const outcome = runWithDeadline(pool, 'sic', clock, QUERY, 2_000).then(
      () => 'answered',
      (e: unknown) => e,
    );
    while (connection.requests.length === 0) await new Promise((r) => setImmediate(r));
    clock.advance(2_000);
    expect(await outcome).toMatchObject({ code: 'SOURCE_TIMEOUT', source: 'sic', deadlineMs: 2_000 });
    expect(connection.closes).toBe(1);
  });

  it('leaves no timer behind when the query settles first, and gives back its connection', async () => {
    const connection = new SilentConnection();
    const { pool, released } = poolOf(connection);
    const clock = new ManualClock();
    const running = runWithDeadline(pool, 'histh2mc', clock, QUERY, 2_000);
    while (connection.requests.length === 0) await new Promise((r) => setImmediate(r));
    expect(connection.requests[0]!.sqlTextOrProcedure).toBe(QUERY.tsql);
    connection.requests[0]!.callback(undefined, 0, []);
    expect(await running).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    expect(released).toEqual([connection]);
    expect(connection.cancels + connection.closes).toBe(0);
  });
});
