// The whole node behind PgBouncer in transaction pooling mode (DESIGN: "Must work behind PgBouncer in transaction
// mode"): it connects and becomes ready, serves reference data, and its transactions keep their session state to
// themselves even though a few server connections are shared by many client connections.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgHandle, PostgresMessage } from '../../src/adapters/postgres/postgres-messages.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { PGBOUNCER_POOL_SIZE, startPrivatePgBouncer, type PrivatePgBouncer } from '../support/private-pgbouncer.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const PROBE = 'samaconso.tx_probe';

describe('node behind PgBouncer (transaction pooling)', () => {
  let db: TestDatabase;
  let bouncer: PrivatePgBouncer;
  let node: RunningNode;
  let handle: PgHandle;

  beforeAll(async () => {
    db = await createTestDatabase();
    const direct = new URL(db.url);
    bouncer = await startPrivatePgBouncer({ host: direct.hostname, port: Number(direct.port), database: direct.pathname.slice(1) });
    // Migrations need a session (advisory lock), so they go straight to PostgreSQL; everything else through PgBouncer.
    node = await startTestNode({ DATABASE_URL: bouncer.url, DATABASE_MIGRATION_URL: db.url, REDIS_URL: undefined });
    await waitFor('ready behind PgBouncer', () => node.runtime.readiness('test').ready);
    handle = await node.runtime.ask<PostgresMessage, 'lend'>('postgres', 'lend', {}, 1_000);
  });
  afterAll(async () => {
    await node?.stop();
    await bouncer?.stop();
    await db?.drop();
  });

  it('becomes ready and serves the seeded notification types through PgBouncer', async () => {
    expect(node.runtime.readiness('test').ready).toBe(true);
    const customer = await mintToken({ role: 'customer' });
    const res = await fetch(`${node.apiUrl}/v1/notification-types`, { headers: { authorization: `Bearer ${customer}` } });
    expect(res.status).toBe(200);
    const types = (await res.json()) as Array<{ code: string; queue: string }>;
    expect(types.find((t) => t.code === 'outage')?.queue).toBe('urgent');

    // The app's pool really went through PgBouncer, and PgBouncer refused nothing it sent at startup.
    const log = bouncer.log();
    expect(log).toMatch(/login attempt: db=\S+ user=postgres/);
    expect(log).not.toMatch(/unsupported startup parameter|08P01/i);
  });

  it('is a strict PgBouncer: a client sending a startup parameter it does not know is refused with 08P01', async () => {
    // What the app used to do (statement_timeout in the startup packet); shows the log check above has teeth.
    const client = new pg.Client({ connectionString: bouncer.url, statement_timeout: 1_000 });
    client.on('error', () => undefined);
    await expect(client.connect()).rejects.toMatchObject({ code: '08P01', message: expect.stringMatching(/unsupported startup parameter/) });
    await client.end().catch(() => undefined);
  });

  it('runs 20 concurrent transactions on 3 server connections without leaking session state between them', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        handle.transaction(async (c) => {
          const mine = `tx-${i}`;
          await c.query('SELECT set_config($1, $2, true)', [PROBE, mine]); // SET LOCAL, with parameters
          await c.query('CREATE TEMP TABLE tx_scratch (n int) ON COMMIT DROP');
          await c.query('INSERT INTO tx_scratch SELECT generate_series(1, $1::int)', [i + 1]);
          await c.query('SELECT pg_sleep(0.02)'); // let the others interleave on the shared server connections
          const { rows } = await c.query<{ seen: string; pid: number; n: number }>(
            'SELECT current_setting($1) AS seen, pg_backend_pid() AS pid, (SELECT count(*)::int FROM tx_scratch) AS n',
            [PROBE],
          );
          return { mine, ...rows[0]! };
        }),
      ),
    );
    for (const [i, r] of results.entries()) {
      expect(r.seen, 'a transaction sees only its own SET LOCAL').toBe(r.mine);
      expect(r.n, 'a transaction sees only its own temp table').toBe(i + 1);
    }
    // The app pool holds up to PG_POOL_MAX (10) client connections; PgBouncer multiplexed them onto its small pool.
    const pids = new Set(results.map((r) => r.pid));
    expect(pids.size).toBeLessThanOrEqual(PGBOUNCER_POOL_SIZE);

    // After commit, no server connection carries a transaction's setting or temp table into other work.
    const after = await Promise.all(
      Array.from({ length: 20 }, () =>
        handle.transaction(async (c) => {
          const { rows } = await c.query<{ seen: string | null; scratch: string | null; pid: number }>(
            "SELECT current_setting($1, true) AS seen, to_regclass('pg_temp.tx_scratch')::text AS scratch, pg_backend_pid() AS pid",
            [PROBE],
          );
          await c.query('SELECT pg_sleep(0.01)');
          return rows[0]!;
        }),
      ),
    );
    for (const r of after) {
      expect(r.seen ?? '', 'no SET LOCAL survives its transaction').toBe('');
      expect(r.scratch).toBeNull();
    }
    expect(after.some((r) => pids.has(r.pid)), 'the same server connections were reused').toBe(true);
  });

  it('rolls back a failed transaction and hands a clean server connection to the next one', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        handle.transaction(async (c) => {
          await c.query('SELECT set_config($1, $2, true)', [PROBE, `doomed-${i}`]);
          if (i % 3 === 0) await c.query('SELECT 1 / 0'); // SQL error: the server aborts the transaction
          if (i % 3 === 1) throw new Error(`application error ${i}`); // JS error: the handle rolls back
          const { rows } = await c.query<{ seen: string }>('SELECT current_setting($1) AS seen', [PROBE]);
          return rows[0]!.seen;
        }),
      ),
    );
    outcomes.forEach((o, i) => {
      if (i % 3 === 2) expect(o).toEqual({ status: 'fulfilled', value: `doomed-${i}` });
      else expect(o.status).toBe('rejected');
    });
    expect(outcomes.filter((o) => o.status === 'rejected' && /division by zero/.test(String(o.reason)))).toHaveLength(4);

    const clean = await Promise.all(
      Array.from({ length: 10 }, () => handle.query<{ seen: string | null }>('SELECT current_setting($1, true) AS seen', [PROBE])),
    );
    // A server connection left in the aborted transaction would fail these with 25P02.
    for (const { rows } of clean) expect(rows[0]!.seen ?? '').toBe('');

    // Seen from PostgreSQL itself: PgBouncer's server connections sit idle, none inside a transaction.
    const direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    try {
      const { rows } = await direct.query<{ state: string | null }>(
        'SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThanOrEqual(PGBOUNCER_POOL_SIZE);
      expect(rows.filter((r) => r.state !== 'idle')).toEqual([]);
    } finally {
      await direct.end();
    }
  });
});
