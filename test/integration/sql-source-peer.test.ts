// The real source actor, configured by an mssql:// URL and a CA file, through the TDS peer and the real mssql client.
import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toProblem } from '../../http/problem.js';
import type { SourceMessage, SourceQuery } from '../../src/adapters/mssql/source-messages.js';
import { mapRows, queryParams } from '../../src/adapters/mssql/source-query.js';
import { loadConfig } from '../../src/config.js';
import { SOURCE_QUERIES, latestPurchases } from '../../src/customer-data/index.js';
import { supervisor } from '../../supervisors/child-spec.js';
import { sourcesSupervisor } from '../../supervisors/tree/sources.js';
import type { TreeContext } from '../../supervisors/tree/tree-context.js';
import { type TestDatabase, createTestDatabase } from '../support/services.js';
import { SAMPLE_INPUTS, seedTwinRows } from '../support/source-twin-rows.js';
import { readTwin } from '../support/source-twin.js';
import { testRuntime } from '../support/supervision.js';
import { tdsTestCa } from '../support/tds/test-ca.js';
import { DEADLOCK_VICTIM, TdsPeer } from '../support/tds/tds-peer.js';
import { waitFor } from '../support/wait.js';

const INPUT = SAMPLE_INPUTS['latest-purchases']!;
const PURCHASES: SourceQuery = {
  name: latestPurchases.name,
  tsql: latestPurchases.tsql,
  twin: latestPurchases.twin,
  params: queryParams(latestPurchases, INPUT as never),
};
// The faults hit the named query only, never the actor's probe (`SELECT 1 AS ok`).
const ONLY_PURCHASES = /HEXING_SENELECBILL_ALHDL2/;
const DEADLINE_MS = 10_000;
const USER = 'samaconso_reader';

let db: TestDatabase;
let twinPool: pg.Pool;
let peerDb: pg.Client;
let peer: TdsPeer;
let caFile: string;
let cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  twinPool = new pg.Pool({ connectionString: db.url, max: 2 });
  await seedTwinRows(twinPool);
  // SIC's tables, found bare or as dbo.X; UTC because SQL Server's datetimes carry no zone (TdsPeer's doc).
  peerDb = new pg.Client({ connectionString: db.url, options: '-c search_path=sic -c TimeZone=UTC' });
  await peerDb.connect();
  const certificate = await tdsTestCa();
  // The config names a CA file, as in production.
  caFile = certificate.caFile;
  peer = await TdsPeer.start({ db: peerDb, certificate, datetimeColumns: ['DATE_TRANSACTION'] });
});

afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
  vi.restoreAllMocks();
  peer.inject({});
  await peer.refuseConnections();
  await peer.acceptConnections();
});

afterAll(async () => {
  await peer?.close();
  await peerDb?.end();
  await twinPool?.end();
  await db?.drop();
});

/** The tree's `sources` supervisor with one source, `sic`, configured by URL and CA file, on a manual clock. */
async function startSource(connectTimeoutMs = 5_000) {
  const config = loadConfig({
    SQL_SOURCES: 'sic',
    // `localhost`, a name as in production: TLS checks it against the peer's certificate.
    SQL_SIC_URL: `mssql://${USER}:${randomBytes(12).toString('hex')}@localhost:${peer.port}/SIC`,
    SQL_SIC_CA_FILE: caFile,
    SQL_CONNECT_TIMEOUT_MS: String(connectTimeoutMs),
    SQL_QUERY_TIMEOUT_MS: String(DEADLINE_MS),
  });
  const t = testRuntime();
  await t.runtime.start(supervisor({ name: 'root', children: [sourcesSupervisor({ config } as TreeContext)] }));
  cleanup.push(() => t.runtime.stop());
  const part = () => t.runtime.readiness('test').parts.find((p) => p.name === 'source-sic')!;
  const query = (q: SourceQuery = PURCHASES) => t.runtime.ask<SourceMessage, 'query'>('source-sic', 'query', { query: q }, 60_000);
  const failures = () => Number(/(\d+) consecutive failures/.exec(part().detail ?? '')?.[1] ?? 0);
  /** Waits for failure number `n`, then returns the delay the actor set before its next attempt. */
  const failed = async (n: number): Promise<number> => {
    await waitFor(`failure ${n}`, () => failures() === n && t.clock.pendingTimers === 1);
    return t.clock.nextDelay()!;
  };
  const running = () => waitFor('source-sic running', () => part().state === 'running');
  return { ...t, part, query, failed, running };
}

/** How often the peer ran the named query's own text. */
const purchasesRun = () => peer.stats.queries.filter((q) => q === latestPurchases.tsql).length;
const twinRows = () => readTwin(twinPool, latestPurchases, INPUT as never);

describe('source actor through the TDS peer', () => {
  it('answers a named query through the actor over TLS with the CA from the file, the login encrypted', async () => {
    expect(SOURCE_QUERIES).toContain(latestPurchases);
    const logins = peer.stats.logins.length;
    const s = await startSource();
    await s.running();
    const rows = mapRows(latestPurchases, await s.query());
    expect(rows.length).toBeGreaterThan(1);
    expect(rows).toEqual(await twinRows());
    expect(purchasesRun()).toBe(1);
    const seen = peer.stats.logins.slice(logins);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual(seen.map(() => ({ userName: USER, database: 'SIC', encrypted: true })));
  });

  it('refuses a peer that answers PRELOGIN "encryption not supported": no LOGIN7 reaches it, the detail says why', async () => {
    peer.inject({ refuseEncryption: true });
    const { logins, connections } = { logins: peer.stats.logins.length, connections: peer.stats.connections };
    const s = await startSource();
    await waitFor('refused', () => s.part().detail?.includes('did not negotiate encryption'));
    expect(s.part().state).toBe('backing-off');
    expect(s.part().detail).toMatch(/^sic: /);
    // Every connection it made has ended, and none carried a LOGIN7, encrypted or not.
    await waitFor('connections ended', () => peer.stats.connections > connections && peer.stats.closed === peer.stats.connections);
    expect(peer.stats.logins.length).toBe(logins);
    await expect(s.query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', reason: 'connecting' });
  });

  it('ends a reply that stalls half-way at our deadline (SOURCE_TIMEOUT) and retires its connection', async () => {
    const s = await startSource();
    await s.running();
    peer.inject({ stallAfterRows: 1, onlyStatements: ONLY_PURCHASES });
    const closed = peer.stats.closed;
    let settled = false;
    const outcome = s.query().then(
      () => 'answered',
      (e: unknown) => e,
    );
    void outcome.then(() => (settled = true));
    // The first row went out and the reply holds: only our deadline (the manual clock) can end it now.
    await waitFor('the reply stalled', () => peer.stats.stalled === 1);
    expect(settled).toBe(false);
    expect(peer.stats.closed).toBe(closed);
    s.clock.advance(DEADLINE_MS);
    expect(await outcome).toMatchObject({ code: 'SOURCE_TIMEOUT', source: 'sic', query: latestPurchases.name, deadlineMs: DEADLINE_MS });
    await waitFor('the connection retired', () => peer.stats.closed > closed);
    // The next query runs on another connection and answers.
    peer.inject({});
    const connections = peer.stats.connections;
    expect(mapRows(latestPurchases, await s.query())).toEqual(await twinRows());
    expect(peer.stats.connections).toBeGreaterThan(connections);
  });

  it('survives a connection killed mid-reply (no unhandled error), and the next query succeeds on a new connection', async () => {
    const unhandled: unknown[] = [];
    const witness = (e: unknown) => unhandled.push(e);
    process.on('uncaughtException', witness);
    process.on('unhandledRejection', witness);
    cleanup.push(async () => {
      process.off('uncaughtException', witness);
      process.off('unhandledRejection', witness);
    });
    const s = await startSource();
    await s.running();
    peer.inject({ killAfterRows: 1, onlyStatements: ONLY_PURCHASES });
    const { connections, closed } = { connections: peer.stats.connections, closed: peer.stats.closed };
    await expect(s.query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', reason: 'connection-lost' });
    await waitFor('the killed connection closed', () => peer.stats.closed > closed);
    peer.inject({});
    expect(mapRows(latestPurchases, await s.query())).toEqual(await twinRows());
    expect(peer.stats.connections).toBeGreaterThan(connections);
    expect(s.part().state).toBe('running');
    expect(unhandled).toEqual([]);
  });

  it('retries a deadlock victim (1205) once: two executions and the rows; two in a row give SOURCE_QUERY_FAILED 1205', async () => {
    const s = await startSource();
    await s.running();
    peer.inject({ queryError: { error: DEADLOCK_VICTIM, times: 1 }, onlyStatements: ONLY_PURCHASES });
    let runs = purchasesRun();
    expect(mapRows(latestPurchases, await s.query())).toEqual(await twinRows());
    expect(purchasesRun() - runs).toBe(2);
    peer.inject({ queryError: { error: DEADLOCK_VICTIM, times: 2 }, onlyStatements: ONLY_PURCHASES });
    runs = purchasesRun();
    await expect(s.query()).rejects.toMatchObject({ code: 'SOURCE_QUERY_FAILED', source: 'sic', number: 1205 });
    expect(purchasesRun() - runs).toBe(2);
    // A deadlock is an answer from the server, not an outage.
    expect(s.part().state).toBe('running');
  });

  it('closes a pool that stays unhealthy and serves from a new one once the peer serves again', async () => {
    const connects = vi.spyOn(sql.ConnectionPool.prototype, 'connect');
    const closes = vi.spyOn(sql.ConnectionPool.prototype, 'close');
    const s = await startSource();
    await s.running();
    expect(connects.mock.contexts).toHaveLength(1);
    const first = connects.mock.contexts[0];
    // The peer kills every connection, those open and each new one, for a while.
    peer.inject({ closeAtOnce: true });
    await peer.refuseConnections();
    await peer.acceptConnections();
    for (let i = 0; i < 3; i++) await expect(s.query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    // The circuit opened; its probe reuses the pool, and fails.
    s.clock.advance(await s.failed(3));
    const delay = await s.failed(4);
    expect(s.part().detail).toContain('pool recreated 0×');
    expect(closes.mock.contexts).not.toContain(first);
    peer.inject({});
    const { connections, logins } = { connections: peer.stats.connections, logins: peer.stats.logins.length };
    s.clock.advance(delay);
    await s.running();
    expect(s.part().detail).toContain('pool recreated 1×');
    expect(connects.mock.contexts).toHaveLength(2);
    expect(connects.mock.contexts[1]).not.toBe(first);
    expect(closes.mock.contexts).toContain(first);
    expect(peer.stats.connections).toBeGreaterThan(connections);
    expect(peer.stats.logins.length).toBeGreaterThan(logins);
    expect(mapRows(latestPurchases, await s.query())).toEqual(await twinRows());
  });
});

describe.each([
  ['a closed port', () => peer.refuseConnections(), () => peer.acceptConnections()],
  ['a peer that accepts then hangs', async () => peer.inject({ hang: true }), async () => peer.inject({})],
  ['a peer that closes at once', async () => peer.inject({ closeAtOnce: true }), async () => peer.inject({})],
])('source actor against %s', (_what, breakPeer, healPeer) => {
  it('backs off with growing, capped delays, opens, fails fast with a 503 and Retry-After, and closes when the peer is back', async () => {
    await breakPeer();
    const s = await startSource(500);
    const delays: number[] = [];
    for (let n = 1; n <= 8; n++) {
      const delay = await s.failed(n);
      delays.push(delay);
      if (n === 3) expect(s.part().detail).toMatch(/^sic: circuit open/);
      if (n < 8) s.clock.advance(delay);
    }
    // The defaults: 500 ms doubling, up to +20 % jitter, capped at 30 s.
    delays.forEach((delay, i) => {
      const base = Math.min(30_000, 500 * 2 ** i);
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThanOrEqual(Math.min(30_000, Math.round(base * 1.2)));
    });
    expect(delays.slice(6)).toEqual([30_000, 30_000]);
    expect(s.part()).toMatchObject({ state: 'backing-off', required: false });
    // Open: callers are refused at once, and the peer sees no new connection.
    const connections = peer.stats.connections;
    for (let i = 0; i < 5; i++) {
      const refused = await s.query().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'sic', reason: 'circuit-open', retryAfterMs: 30_000 });
      const problem = toProblem(refused, 'req-1');
      expect(problem.status).toBe(503);
      expect(problem.headers['Retry-After']).toBe('30');
    }
    expect(peer.stats.connections).toBe(connections);
    await healPeer();
    const logins = peer.stats.logins.length;
    s.clock.advance(delays.at(-1)!);
    await s.running();
    expect(s.part().detail).toMatch(/open→half-open .*half-open→closed/);
    expect(peer.stats.logins.length).toBeGreaterThan(logins);
    expect(mapRows(latestPurchases, await s.query())).toEqual(await twinRows());
  });
});
