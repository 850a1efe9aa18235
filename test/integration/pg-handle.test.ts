// The PgHandle over a pg pool when the server drops a connection in the middle of a transaction (a restart,
// a failover, pg_terminate_backend). pg emits 'error' on a client it loses; while a pool client is checked out
// nobody else listens, and an 'error' with no listener ends the process. The transaction must fail, typed as an
// outage, and nothing may escape as an uncaught exception (seen in CI: "Connection terminated unexpectedly"
// while PostgreSQL was stopped under a running node).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { isPostgresOutage } from '../../src/adapters/postgres/pg-errors.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

let db: TestDatabase;
let pool: pg.Pool;
let admin: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => undefined); // idle clients: the pool's own listener (as the postgres actor has)
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await pool?.end();
  await db?.drop();
});

/** Runs fn with the process's uncaughtException listeners replaced by a collector, and returns what it caught. */
async function collectingUncaught(fn: () => Promise<void>): Promise<unknown[]> {
  const caught: unknown[] = [];
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const collect = (e: unknown) => caught.push(e);
  process.on('uncaughtException', collect);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 50)); // any late 'error' emission
  } finally {
    process.off('uncaughtException', collect);
    for (const l of previous) process.on('uncaughtException', l);
  }
  return caught;
}

describe('a connection lost inside a transaction', () => {
  it('fails that transaction as an outage and raises no uncaught error', async () => {
    const handle = poolHandle(pool);
    let failure: unknown;
    const uncaught = await collectingUncaught(async () => {
      failure = await handle
        .transaction(async (client) => {
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          // 'end' comes after the 'error' emission, which today throws before it: so at most a second.
          const ended = Promise.race([new Promise((r) => client.once('end', r)), new Promise((r) => setTimeout(r, 1_000))]);
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
          await ended; // the socket is gone while the client is checked out
          await client.query('SELECT 1');
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    });
    expect(uncaught).toEqual([]);
    expect(failure).toBeInstanceOf(Error);
    expect(isPostgresOutage(failure)).toBe(true);
    // The pool let go of the dead client and still serves.
    await expect(handle.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});
