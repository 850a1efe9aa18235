// The SIC registration relay (DESIGN.md 5: the one write to a source, retried until SIC accepts it): the sic-registrar
// actor beside the real source actor, through the TDS peer and the real mssql client, on a manual clock; and two
// registrars draining one outbox at once.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sicRegistrarActor } from '../../actors/services/sic-registrar-actor.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { registerAppMeter } from '../../src/customer-data/index.js';
import {
  SIC_REGISTRAR,
  type SicRegistrarMessage,
  type SicRegistration,
  SicRegistrar,
  kickSicRegistrar,
  queueSicRegistration,
  registerThroughSic,
} from '../../src/meters/index.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { sourcesSupervisor } from '../../supervisors/tree/sources.js';
import type { TreeContext } from '../../supervisors/tree/tree-context.js';
import { type TestDatabase, createTestDatabase } from '../support/services.js';
import { writeTwin } from '../support/source-twin.js';
import { testRuntime } from '../support/supervision.js';
import { tdsTestCa } from '../support/tds/test-ca.js';
import { TdsPeer } from '../support/tds/tds-peer.js';
import { waitFor } from '../support/wait.js';

const POLL_MS = 5_000;
/** Row delays: 1 s doubling, capped at 4 s here (5 min in production) so the cap shows in four attempts. */
const ROW_BACKOFF = { minMs: 1_000, maxMs: 4_000 };

let db: TestDatabase;
let pool: pg.Pool;
let handle: PgHandle;
let peerDb: pg.Client;
let peer: TdsPeer;
let caFile: string;
let cleanup: (() => Promise<void>)[] = [];
let meters = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 6 });
  handle = poolHandle(pool);
  // SIC's tables, found bare; UTC because SQL Server's datetimes carry no zone (TdsPeer's doc).
  peerDb = new pg.Client({ connectionString: db.url, options: '-c search_path=sic -c TimeZone=UTC' });
  await peerDb.connect();
  const certificate = await tdsTestCa();
  caFile = certificate.caFile;
  peer = await TdsPeer.start({ db: peerDb, certificate });
});

afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
  peer.inject({});
  await peer.acceptConnections();
});

afterAll(async () => {
  await peer?.close();
  await peerDb?.end();
  await pool?.end();
  await db?.drop();
});

const newMeter = (): SicRegistration => ({ kind: 'prepaid', meter: `REG-${process.pid}-${++meters}` });

interface Row {
  attempts: number;
  next_attempt_at: Date;
  registered_at: Date | null;
  last_error: string | null;
}
const outboxRow = async (r: SicRegistration): Promise<Row> =>
  (await pool.query<Row>(`SELECT attempts, next_attempt_at, registered_at, last_error FROM sic_registrations WHERE kind = $1 AND meter = $2`, [r.kind, r.meter])).rows[0]!;
const inSic = async (r: SicRegistration): Promise<number> =>
  (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sic."compteurs_app_mobile" WHERE "numero" = $1`, [r.meter])).rows[0]!.n;
/** How often the peer ran the registration's own T-SQL for this meter's test (texts are the same for every meter). */
const registrationsRun = () => peer.stats.queries.filter((q) => q === registerAppMeter.tsql).length;

/** `source-sic` on the TDS peer (by URL and CA file, as in production) and the sic-registrar, on a manual clock. */
async function startNode(dbOf: () => Promise<PgHandle> = async () => handle) {
  const config = loadConfig({
    SQL_SOURCES: 'sic',
    SQL_SIC_URL: `mssql://samaconso_writer:${randomBytes(12).toString('hex')}@localhost:${peer.port}/SIC`,
    SQL_SIC_CA_FILE: caFile,
    SQL_CONNECT_TIMEOUT_MS: '500',
  });
  const t = testRuntime();
  const registrar = sicRegistrarActor({
    pollMs: POLL_MS,
    queryTimeoutMs: config.sources.queryTimeoutMs,
    rowBackoff: ROW_BACKOFF,
    random: () => 0,
    deps: (ctx) => ({ db: dbOf, register: registerThroughSic(ctx, config.sources.queryTimeoutMs) }),
  });
  await t.runtime.start(supervisor({ name: 'root', children: [sourcesSupervisor({ config } as TreeContext), actor({ name: SIC_REGISTRAR, readiness: 'optional', behaviour: registrar })] }));
  cleanup.push(() => t.runtime.stop());
  const part = (name: string) => t.runtime.readiness('test').parts.find((p) => p.name === name)!;
  const stats = () => t.runtime.ask<SicRegistrarMessage, 'stats'>(SIC_REGISTRAR, 'stats', {}, 5_000);
  /** Kicks the registrar (the helper the meters flow calls) and waits until that drain is over. */
  const drain = async () => {
    kickSicRegistrar(t.runtime);
    await waitFor('the registrar idle', async () => (await stats()).state === 'idle');
  };
  const queue = async (r: SicRegistration) => queueSicRegistration(handle, r, new Date(t.clock.now()));
  return { ...t, part, stats, drain, queue };
}

describe('sic-registrar through the TDS peer', () => {
  it('while SIC is away the row stays, its attempts growing with growing, capped delays; once SIC is back the meter lands once', async () => {
    await peer.refuseConnections();
    const node = await startNode();
    const r = newMeter();
    await node.queue(r);
    const before = registrationsRun();

    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      await node.drain();
      const row = await outboxRow(r);
      expect(row).toMatchObject({ attempts: attempt, registered_at: null, last_error: expect.stringMatching(/^SOURCE_UNAVAILABLE: /) });
      delays.push(row.next_attempt_at.getTime() - node.clock.now());
      // Not due yet: a kick changes nothing.
      await node.drain();
      expect((await outboxRow(r)).attempts).toBe(attempt);
      node.clock.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 4_000]);
    expect(await node.stats()).toMatchObject({ pending: 1, registered: 0, failures: 4, lastError: expect.stringMatching(/^SOURCE_UNAVAILABLE/) });
    expect(node.part(SIC_REGISTRAR)).toMatchObject({ state: 'backing-off', required: false });
    expect(await inSic(r)).toBe(0);

    // SIC is back: once the source reconnected (its own backoff, on the same clock), the next attempt registers.
    await peer.acceptConnections();
    node.clock.advance(30_000);
    await waitFor('source-sic running', () => node.part('source-sic').state === 'running');
    node.clock.advance(ROW_BACKOFF.maxMs);
    await node.drain();
    expect((await outboxRow(r)).registered_at).not.toBeNull();
    expect(await inSic(r)).toBe(1);
    expect(registrationsRun() - before).toBe(1);
    expect(await node.stats()).toMatchObject({ pending: 0, registered: 1 });
    expect(node.part(SIC_REGISTRAR).state).toBe('running');
    // Registered rows are never sent again.
    node.clock.advance(POLL_MS);
    await node.drain();
    expect(registrationsRun() - before).toBe(1);
  });

  it('a retry after a lost reply (the connection killed after the insert ran) inserts nothing: one row in SIC, two executions', async () => {
    const node = await startNode();
    await waitFor('source-sic running', () => node.part('source-sic').state === 'running');
    const r = newMeter();
    await node.queue(r);
    const before = registrationsRun();
    // The peer runs the statement, then closes the connection before any answer.
    peer.inject({ killAfterRows: 0, onlyStatements: /compteurs_app_mobile/ });
    await node.drain();
    expect(await outboxRow(r)).toMatchObject({ attempts: 1, registered_at: null, last_error: expect.stringMatching(/^SOURCE_UNAVAILABLE: /) });
    expect(await inSic(r)).toBe(1);

    peer.inject({});
    node.clock.advance(1_000);
    await waitFor('source-sic running', () => node.part('source-sic').state === 'running');
    await node.drain();
    expect((await outboxRow(r)).registered_at).not.toBeNull();
    expect(await inSic(r)).toBe(1);
    expect(registrationsRun() - before).toBe(2);
  });
});

describe('sic-registrar without PostgreSQL', () => {
  it('backs off (not a crash) while PostgreSQL is away, drains on its timer once it is back, and shows running again', async () => {
    let down = true;
    const node = await startNode(async () => {
      if (down) throw Object.assign(new Error('PostgreSQL is unavailable'), { code: 'DATABASE_UNAVAILABLE' });
      return handle;
    });
    const r = newMeter();
    await queueSicRegistration(handle, r, new Date(node.clock.now()));
    await waitFor('the source running', () => node.part('source-sic').state === 'running');
    kickSicRegistrar(node.runtime);
    await waitFor('backing-off', () => node.part(SIC_REGISTRAR).state === 'backing-off');
    expect(node.part(SIC_REGISTRAR).detail).toMatch(/\(PostgreSQL is unavailable\); retrying in 500 ms$/);
    expect(node.events.filter((e) => e.type === 'crashed')).toEqual([]);
    down = false;
    node.clock.advance(500);
    await waitFor('registered', async () => (await outboxRow(r)).registered_at !== null);
    await waitFor('running again', () => node.part(SIC_REGISTRAR).state === 'running');
    expect(await inSic(r)).toBe(1);
  });
});

describe('one batch', () => {
  it('stops at the first outage: the rest wait with the failed row, no attempt counted; a query error stops nothing', async () => {
    await pool.query(`DELETE FROM sic_registrations WHERE registered_at IS NULL`);
    const clock = new ManualClock();
    const rows = [newMeter(), newMeter(), newMeter()];
    for (const [i, r] of rows.entries()) await queueSicRegistration(handle, r, new Date(clock.now() - 3 + i));
    let asked = 0;
    let failure: Error = Object.assign(new Error('circuit open'), { code: 'SOURCE_UNAVAILABLE' });
    const registrar = new SicRegistrar({
      db: async () => handle,
      register: async () => {
        asked++;
        throw failure;
      },
      clock,
      random: () => 0,
    });
    expect(await registrar.drainBatch()).toEqual({ claimed: 3, registered: 0, failed: 1, lastError: 'SOURCE_UNAVAILABLE: circuit open' });
    expect(asked).toBe(1);
    const [first, ...rest] = await Promise.all(rows.map(outboxRow));
    expect(first).toMatchObject({ attempts: 1, next_attempt_at: new Date(clock.now() + 1_000) });
    for (const r of rest) expect(r).toMatchObject({ attempts: 0, next_attempt_at: new Date(clock.now() + 1_000), last_error: null });
    // A query error (SQL Server answered) is the row's own: every row is asked.
    failure = Object.assign(new Error('Invalid column name'), { code: 'SOURCE_QUERY_FAILED' });
    clock.advance(1_000);
    asked = 0;
    expect(await registrar.drainBatch()).toMatchObject({ claimed: 3, failed: 3 });
    expect(asked).toBe(3);
    expect((await Promise.all(rows.map(outboxRow))).map((r) => r.attempts)).toEqual([2, 1, 1]);
    expect(await registrar.pending()).toBe(3);
  });
});

describe('two registrars at once', () => {
  it('register each row once, and hold no transaction open while SIC is asked', async () => {
    const clock = new ManualClock();
    // This outbox holds only this test's rows (an earlier test's failure leaves none behind to be counted here).
    await pool.query(`DELETE FROM sic_registrations WHERE registered_at IS NULL`);
    const rows = Array.from({ length: 12 }, newMeter);
    for (const r of rows) await queueSicRegistration(handle, r, new Date(clock.now()));
    const calls = new Map<string, number>();
    const openTransactions: number[] = [];
    // Both registrars stop inside their first call until the other one is inside its own: two batches in flight, each
    // past its claim. The open transactions are counted then, and both wait until both have counted: a registrar that
    // went on to its next claim meanwhile would be counted in the middle of that claim, which is not what is asked.
    let inside = 0;
    let measured = 0;
    let release!: () => void;
    let releaseMeasured!: () => void;
    const bothInside = new Promise<void>((resolve) => (release = resolve));
    const bothMeasured = new Promise<void>((resolve) => (releaseMeasured = resolve));
    const register = async (r: SicRegistration): Promise<void> => {
      calls.set(r.meter, (calls.get(r.meter) ?? 0) + 1);
      const first = ++inside <= 2;
      if (inside === 2) release();
      await bothInside;
      if (first) {
        const { rows: open } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
        );
        openTransactions.push(open[0]!.n);
        if (++measured === 2) releaseMeasured();
        await bothMeasured;
      }
      await writeTwin(pool, registerAppMeter, { meter: r.meter, type: r.kind });
    };
    const registrars = [0, 1].map(() => new SicRegistrar({ db: async () => handle, register, clock, batchSize: 4, random: () => 0 }));
    const drainAll = async (s: SicRegistrar) => {
      let total = 0;
      for (;;) {
        const result = await s.drainBatch();
        total += result.claimed;
        if (result.claimed === 0) return total;
      }
    };
    const claimed = await Promise.all(registrars.map(drainAll));
    expect(claimed[0]! + claimed[1]!).toBe(rows.length);
    expect(claimed.every((n) => n > 0)).toBe(true);
    expect(rows.map((r) => calls.get(r.meter))).toEqual(rows.map(() => 1));
    for (const r of rows) {
      expect((await outboxRow(r)).registered_at).not.toBeNull();
      expect(await inSic(r)).toBe(1);
    }
    expect(openTransactions).toEqual([0, 0]);
  });
});
