// GET /v1/meters/{linkId}/… through a whole node: sic and bi_ods in twin mode, histh2mc through the TDS peer with the
// real mssql client (so the bills' T-SQL runs), twin rows seeded and meter_links rows written by SQL
// (test/support/meter-link-rows.ts). Each route answers the seeded data in the contract's units; rule 5: another
// customer's link, another agency's meter, a pending or ended link are the same 404 as an unknown id; the kind is
// checked; a matching If-None-Match is a 304 without a body; a source slower than the default route deadline answers
// its own SOURCE_TIMEOUT (the derived deadline); and with the source gone a cached read is answered stale with its age,
// an uncached one 503 with Retry-After.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { testConfig } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { type MeterLinkFixture, seedMeterLinks } from '../support/meter-link-rows.js';
import { ACCOUNT, METER, POLICE } from '../support/source-twin-rows.js';
import { tdsTestCa } from '../support/tds/test-ca.js';
import { TdsPeer } from '../support/tds/tds-peer.js';
import { type Family, scrape } from '../support/prometheus-text.js';
import { CIRCUIT_STATE_VALUE } from '../../src/metric-names.js';
import { waitFor } from '../support/wait.js';

const MINUTE = 60_000;

/** The value of the one sample `name` with `labels`; fails when there is none (or more than one), never reads 0 for absent. */
function onlySample(families: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const found = [...families.values()].flatMap((f) => f.samples).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`expected one ${name} sample with ${JSON.stringify(labels)} on /metrics, found ${found.length}`);
  return found[0]!.value;
}

let db: TestDatabase;
let sql: pg.Pool;
let peerDb: pg.Client;
let peer: TdsPeer;
let node: RunningNode;
const clock = new ManualClock(Date.now());
let links: MeterLinkFixture;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, any> | undefined;
}

async function get(path: string, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${node.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const readsOf = (link: string) => [`/v1/meters/${link}/purchases`, `/v1/meters/${link}/purchases/monthly`, `/v1/meters/${link}/bills`, `/v1/meters/${link}/bills/monthly`, `/v1/meters/${link}/contract`];
/** A problem without its request id (which differs per request by design). */
const comparable = (a: Answer) => ({ status: a.status, type: a.headers.get('content-type'), body: { ...a.body, requestId: undefined } as Record<string, any> });

beforeAll(async () => {
  db = await createTestDatabase();
  const certificate = await tdsTestCa();
  // HISTH2MC's tables found bare, in UTC (SQL Server's datetimes carry no zone; the sources hold Dakar time, UTC).
  peerDb = new pg.Client({ connectionString: db.url, options: '-c search_path=histh2mc -c TimeZone=UTC' });
  await peerDb.connect();
  peer = await TdsPeer.start({ db: peerDb, certificate, datetimeColumns: ['DATFACT', 'DATEECH'] });
  node = await startNode(
    testConfig({ DATABASE_URL: db.url, SQL_HISTH2MC_URL: `mssql://samaconso_reader:${randomBytes(12).toString('hex')}@localhost:${peer.port}/HISTH2MC`, SQL_HISTH2MC_CA_FILE: certificate.caFile }),
    silentLogger(),
    { clock },
  );
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  await waitFor('histh2mc through the peer', () => node.runtime.readiness('test').parts.find((p) => p.name === 'source-histh2mc')?.state === 'running');
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  links = await seedMeterLinks(sql);
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await peer?.close();
  await peerDb?.end();
  await sql?.end();
  await db?.drop();
});

describe('meter data through the API', () => {
  it("answers a prepaid meter's latest purchases and a period's, newest first, in FCFA and kWh", async () => {
    const latest = await get(`/v1/meters/${links.prepaid}/purchases`, links.tokens.a);
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ linkId: links.prepaid, meter: METER });
    expect(latest.body!.stale).toBeUndefined();
    // Only this meter under this POC: the former customer's sale and another meter's never show.
    expect(latest.body!.purchases.map((p: { orderNumber: string }) => p.orderNumber)).toEqual(['C08', 'C07', 'C06', 'C05', 'C04', 'C03', 'C02', 'C01']);
    expect(latest.body!.purchases[4]).toMatchObject({
      orderNumber: 'C04', police: POLICE, purchasedAt: '2026-02-03T10:00:00.000Z', amountPaidFcfa: 3100, amountTtcFcfa: 3000, amountHtFcfa: 2542,
      energyKwh: 24.7, tokens: ['12345678901234567890'], bands: [{ band: 1, energyKwh: 24.7, unitPriceFcfa: 102.5, amountFcfa: 2542 }],
    });
    // No MONTANT_RECU: the customer paid the amount with taxes.
    expect(latest.body!.purchases[7]).toMatchObject({ orderNumber: 'C01', amountPaidFcfa: 1000 });
    const period = await get(`/v1/meters/${links.prepaid}/purchases?from=2026-01-01&to=2026-04-01&limit=3`, links.tokens.a);
    expect(period.body!.purchases.map((p: { orderNumber: string }) => p.orderNumber)).toEqual(['C07', 'C06', 'C05']);
  });

  it("answers the monthly purchases of a year (the clock's by default): twelve months and the totals", async () => {
    const res = await get(`/v1/meters/${links.prepaid}/purchases/monthly?year=2026`, links.tokens.a);
    expect(res.status).toBe(200);
    expect(res.body!.year).toBe(2026);
    const months = res.body!.months as { month: number; purchases: number; amountPaidFcfa: number; energyKwh: number }[];
    expect(months).toHaveLength(12);
    expect(months.slice(0, 4).map(({ month, purchases, amountPaidFcfa }) => [month, purchases, amountPaidFcfa])).toEqual([[1, 2, 7000], [2, 1, 3100], [3, 3, 12500], [4, 0, 0]]);
    expect(months[2]!.energyKwh).toBeCloseTo(102.35, 6);
    expect(res.body!.total).toMatchObject({ purchases: 6, amountPaidFcfa: 22600 });
    const byDefault = await get(`/v1/meters/${links.prepaid}/purchases/monthly`, links.tokens.a);
    expect(byDefault.body!.year).toBe(new Date(clock.now()).getUTCFullYear());
  });

  it("answers a postpaid account's latest bills and a period's through the real driver, and the monthly bills", async () => {
    const latest = await get(`/v1/meters/${links.postpaid}/bills`, links.tokens.a);
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ linkId: links.postpaid, contractAccount: ACCOUNT });
    // F4 and F5 share their issue date: the newer record first. Another account's bill (G1) never shows.
    expect(latest.body!.bills.map((b: { billNumber: string }) => b.billNumber)).toEqual(['F5', 'F4', 'F3', 'F2', 'F1']);
    expect(latest.body!.bills[2]).toMatchObject({
      id: '3', billNumber: 'F3', contractAccount: ACCOUNT, issuedAt: '2026-03-05T00:00:00.000Z', dueAt: '2026-03-20T00:00:00.000Z', billingMonth: 2,
      billingYear: 2026, daysBilled: 61, totalFcfa: 15001, amountTtcFcfa: 15001, consumptionKwh: { band1: 150.5, band2: null, band3: null, total: 150.5 },
    });
    const period = await get(`/v1/meters/${links.postpaid}/bills?from=2026-01-01T00:00:00Z&to=2026-04-01&limit=5`, links.tokens.a);
    expect(period.body!.bills.map((b: { billNumber: string }) => b.billNumber)).toEqual(['F3', 'F2']);
    const monthly = await get(`/v1/meters/${links.postpaid}/bills/monthly?year=2026`, links.tokens.a);
    expect(monthly.body!.months.filter((m: { bills: number }) => m.bills > 0)).toEqual([
      { month: 2, bills: 1, totalFcfa: 15001, energyKwh: 150.5 },
      { month: 4, bills: 2, totalFcfa: 9500, energyKwh: 90 },
    ]);
    expect(monthly.body!.total).toEqual({ bills: 3, totalFcfa: 24501, energyKwh: 240.5 });
    expect(peer.stats.queries.length).toBeGreaterThanOrEqual(3);
  });

  it('answers the contract of each kind: the SIC customer of a prepaid meter, the account and its holder for postpaid', async () => {
    expect((await get(`/v1/meters/${links.prepaid}/contract`, links.tokens.a)).body).toEqual({
      kind: 'prepaid', linkId: links.prepaid, meterNumber: METER, police: POLICE, customerNumber: 'CL-1', usage: 'DOMESTIQUE', name: 'FALL MODOU',
      address: 'HLM 5', agency: 'DAKAR-PLATEAU', phone: '+221771234567',
    });
    expect((await get(`/v1/meters/${links.postpaid}/contract`, links.tokens.a)).body).toEqual({
      kind: 'postpaid', linkId: links.postpaid, contractAccount: ACCOUNT, partner: '1000001', firstName: 'Awa', lastName: 'Diop', email: 'awa.diop@example.sn',
      tariff: 'DPP', name: 'DIOP AWA', address: null, agency: 'PIKINE', phone: '+221775000001',
    });
  });

  it("gives customer B reading A's links the same 404 as an unknown id, on every read", async () => {
    const unknown = comparable(await get(`/v1/meters/${randomUUID()}/contract`, links.tokens.b));
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('METER_LINK_NOT_FOUND');
    expect(comparable(await get('/v1/meters/not-a-link-id/bills', links.tokens.b))).toEqual(unknown);
    for (const path of [...readsOf(links.prepaid), ...readsOf(links.postpaid)]) expect(comparable(await get(path, links.tokens.b)), path).toEqual(unknown);
  });

  it("lets an agent read their agency's meters only, and an admin every one", async () => {
    const notFound = comparable(await get(`/v1/meters/${randomUUID()}/contract`, links.tokens.thies));
    for (const path of readsOf(links.postpaid)) {
      expect(comparable(await get(path, links.tokens.thies)), path).toEqual(notFound);
      expect(comparable(await get(path, links.tokens.plateau)), path).toEqual(notFound);
    }
    expect((await get(`/v1/meters/${links.postpaid}/bills`, links.tokens.pikine)).status).toBe(200);
    expect((await get(`/v1/meters/${links.postpaid}/contract`, links.tokens.pikine)).status).toBe(200);
    expect((await get(`/v1/meters/${links.prepaid}/purchases`, links.tokens.plateau)).status).toBe(200);
    expect(comparable(await get(`/v1/meters/${links.prepaid}/purchases`, links.tokens.pikine))).toEqual(notFound);
    expect((await get(`/v1/meters/${links.prepaid}/purchases/monthly`, links.tokens.admin)).status).toBe(200);
    expect((await get(`/v1/meters/${links.postpaid}/bills/monthly`, links.tokens.admin)).status).toBe(200);
  });

  it('answers a pending or an ended link as unknown, to its own user too', async () => {
    const notFound = comparable(await get(`/v1/meters/${randomUUID()}/contract`, links.tokens.a));
    for (const path of readsOf(links.pending)) expect(comparable(await get(path, links.tokens.b)), path).toEqual(notFound);
    for (const path of readsOf(links.ended)) expect(comparable(await get(path, links.tokens.a)), path).toEqual(notFound);
  });

  it('answers 404 METER_KIND_MISMATCH for bills of a prepaid meter and purchases of a postpaid one', async () => {
    for (const path of [`/v1/meters/${links.prepaid}/bills`, `/v1/meters/${links.prepaid}/bills/monthly`, `/v1/meters/${links.postpaid}/purchases`, `/v1/meters/${links.postpaid}/purchases/monthly`]) {
      const res = await get(path, links.tokens.a);
      expect(res.status, path).toBe(404);
      expect(res.body?.code, path).toBe('METER_KIND_MISMATCH');
    }
  });

  it('answers 304 with no body to a matching If-None-Match, and 200 again once the tag no longer matches', async () => {
    const first = await get(`/v1/meters/${links.postpaid}/bills`, links.tokens.a);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    const tag = first.headers.get('etag')!;
    expect(tag).toMatch(/^W\/"/);
    const again = await get(`/v1/meters/${links.postpaid}/bills`, links.tokens.a, { 'if-none-match': tag });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect((await get(`/v1/meters/${links.postpaid}/bills`, links.tokens.a, { 'if-none-match': 'W/"other"' })).status).toBe(200);
  });

  it("waits for a slow source past the default route deadline and answers the source's own 504 SOURCE_TIMEOUT", async () => {
    const { queryDeadlineMs } = testConfig({});
    const sourceDeadlineMs = 10_000; // SQL_QUERY_TIMEOUT_MS's default, past the default route deadline
    expect(sourceDeadlineMs).toBeGreaterThan(queryDeadlineMs);
    // The bills' reply sends one row and holds: only the source actor's deadline (on the node's clock) can end it.
    peer.inject({ stallAfterRows: 1, onlyStatements: /Historique/ });
    const stalled = peer.stats.stalled;
    const answer = get(`/v1/meters/${links.postpaid}/bills?limit=2`, links.tokens.a);
    await waitFor('the reply stalled', () => peer.stats.stalled > stalled);
    // Past the default deadline first: a route waiting only that long answers QUERY_TIMEOUT here.
    clock.advance(queryDeadlineMs + 1);
    clock.advance(sourceDeadlineMs - queryDeadlineMs);
    const res = await answer;
    expect(res.status).toBe(504);
    expect(res.body?.code).toBe('SOURCE_TIMEOUT');
    peer.inject({});
  });

  // Last: it takes the bills' source away for good.
  it('answers a cached read stale with its age while the source is gone, and an uncached one 503 with Retry-After', async () => {
    const fresh = await get(`/v1/meters/${links.postpaid}/bills?limit=3`, links.tokens.a);
    expect(fresh.status).toBe(200);
    expect(fresh.body!.stale).toBeUndefined();
    // /metrics as a scraper reads it: the source's circuit closed before the fault, open once it hit (issue 13, Build 4).
    const circuit = async () => onlySample(await scrape(node.opsUrl), 'samaconso_source_circuit_state', { source: 'histh2mc' });
    expect(await circuit()).toBe(CIRCUIT_STATE_VALUE.closed);
    await peer.refuseConnections();
    clock.advance(6 * MINUTE); // past the bills' 5 minutes of freshness
    const stale = await get(`/v1/meters/${links.postpaid}/bills?limit=3`, links.tokens.a);
    expect(stale.status).toBe(200);
    expect(stale.body).toEqual({ ...fresh.body, stale: true, ageMs: 6 * MINUTE });
    const never = await get(`/v1/meters/${links.postpaid}/bills/monthly?year=2031`, links.tokens.a);
    expect(never.status).toBe(503);
    expect(never.body?.code).toBe('SOURCE_UNAVAILABLE');
    expect(never.headers.get('retry-after')).toMatch(/^\d+$/);
    await waitFor('the circuit reported open on /metrics', async () => {
      if ((await circuit()) === CIRCUIT_STATE_VALUE.open) return true;
      await get(`/v1/meters/${links.postpaid}/bills/monthly?year=2032`, links.tokens.a);
      return false;
    });
  });
});
