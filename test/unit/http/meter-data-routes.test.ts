// The meter-data routes on the real Koa app with a fake gateway: the deadline derived from SQL_QUERY_TIMEOUT_MS (above
// the reader's own ask of a source and the default route deadline), 400s naming the field for every bad query, the
// parsed query handed to the actor, Cache-Control and ETag/304, and a source outage as 503 with Retry-After.
import { afterEach, describe, expect, it } from 'vitest';
import { sourceReadDeadlineMs } from '../../../http/deadlines.js';
import type { ActorRef, Asker, Message } from '../../../src/actor-behaviour.js';
import { SourceUnavailableError } from '../../../src/adapters/mssql/source-errors.js';
import { ManualClock } from '../../../src/clock.js';
import { CustomerDataReader, latestBills } from '../../../src/customer-data/index.js';
import { mintToken } from '../../support/tokens.js';
import { fakeGateway, readProblem, startHttp, type Harness } from './http-harness.js';

const LINK = '3f1c2a9e-3c1b-4a57-9b8e-0d6c1f0e2a11';
const ROUTES = [
  ['purchases', `/v1/meters/${LINK}/purchases`],
  ['monthly-purchases', `/v1/meters/${LINK}/purchases/monthly`],
  ['bills', `/v1/meters/${LINK}/bills`],
  ['monthly-bills', `/v1/meters/${LINK}/bills/monthly`],
  ['contract', `/v1/meters/${LINK}/contract`],
] as const;
const BILLS = { linkId: LINK, contractAccount: '300012345', bills: [] };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** The deadline a CustomerDataReader gives its ask of a source, read off a fake asker. */
async function readerAskDeadlineMs(queryTimeoutMs: number): Promise<number> {
  let seen = 0;
  const asker: Asker = {
    ref: <M extends Message>(name: string): ActorRef<M> => ({ name, tell: () => {} }),
    query: () => Promise.reject(new Error('not used')),
    ask: (async (to: ActorRef<Message>, _type: string, _payload: unknown, deadlineMs: number) => {
      if (to.name === 'cache') throw new Error('no cache');
      seen = deadlineMs;
      return [];
    }) as Asker['ask'],
  };
  await new CustomerDataReader({ asker, clock: new ManualClock(), queryTimeoutMs }).read(latestBills, { account: '1', limit: 1 });
  return seen;
}

async function setup(env: Record<string, string> = {}, replies: Record<string, (payload: unknown) => unknown> = {}) {
  const gateway = fakeGateway(Object.fromEntries(ROUTES.map(([type]) => [`meter-data.${type}`, replies[type] ?? (() => BILLS)])));
  harness = await startHttp({ gateway, env });
  const token = await mintToken({ role: 'customer' });
  const get = (path: string, headers: Record<string, string> = {}) => harness!.fetch(path, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { gateway, get };
}

describe('meter-data routes', () => {
  it('wait a deadline derived from SQL_QUERY_TIMEOUT_MS, above the reader\'s ask of a source and the default deadline', async () => {
    for (const timeoutMs of [10_000, 7_000, 100]) {
      const { gateway, get } = await setup({ SQL_QUERY_TIMEOUT_MS: String(timeoutMs) });
      for (const [, path] of ROUTES) expect((await get(path)).status).toBe(200);
      const expected = sourceReadDeadlineMs(timeoutMs, harness!.config.queryDeadlineMs);
      expect(gateway.calls.map((c) => c.deadlineMs)).toEqual(ROUTES.map(() => expected));
      expect(expected).toBeGreaterThan(await readerAskDeadlineMs(timeoutMs));
      expect(expected).toBeGreaterThanOrEqual(harness!.config.queryDeadlineMs);
      await harness!.close();
      harness = undefined;
    }
    expect(sourceReadDeadlineMs(10_000, 5_000)).toBeGreaterThan(5_000);
  });

  it('answers 400 VALIDATION_FAILED naming the field for a bad period, limit or year, without asking the actor', async () => {
    const { gateway, get } = await setup();
    const cases: [string, string][] = [
      ['/purchases?from=2026-01-01', 'query.to'],
      ['/bills?to=2026-01-01', 'query.from'],
      ['/purchases?from=2026-03-01&to=2026-03-01', 'query.from'],
      ['/bills?from=2026-04-01&to=2026-03-01', 'query.from'],
      ['/purchases?from=2026-02-30&to=2026-04-01', 'query.from'],
      ['/purchases?from=yesterday&to=2026-04-01', 'query.from'],
      ['/bills?from=2026-01-01T08:00:00&to=2026-04-01', 'query.from'],
      ['/bills?from=2026-01-01&to=2026-13-01', 'query.to'],
      ['/bills?from=0000-01-01&to=2026-01-01', 'query.from'],
      ['/purchases?from=2026-01-01&to=2101-01-01T00:00:00Z', 'query.to'],
      ['/purchases?limit=0', 'query.limit'],
      ['/purchases?limit=101', 'query.limit'],
      ['/bills?limit=-1', 'query.limit'],
      ['/bills?limit=2.5', 'query.limit'],
      ['/bills?limit=1&limit=2', 'query.limit'],
      ['/purchases/monthly?year=1999', 'query.year'],
      ['/purchases/monthly?year=2101', 'query.year'],
      ['/bills/monthly?year=20x6', 'query.year'],
      ['/bills/monthly?year=', 'query.year'],
    ];
    for (const [suffix, field] of cases) {
      const res = await get(`/v1/meters/${LINK}${suffix}`);
      expect(res.status, suffix).toBe(400);
      const problem = await readProblem(res);
      expect(problem.code, suffix).toBe('VALIDATION_FAILED');
      expect(problem.fields?.map((f) => f.path), suffix).toContain(field);
    }
    expect(gateway.calls).toEqual([]);
  });

  it('hands the actor the caller, the link id and the parsed query: dates as instants, numbers as numbers', async () => {
    const { gateway, get } = await setup();
    await get(`/v1/meters/${LINK}/bills?from=2026-01-01&to=2026-04-01T12:30:00%2B01:00&limit=12`);
    await get(`/v1/meters/${LINK}/purchases`);
    await get(`/v1/meters/${LINK}/bills/monthly?year=2025`);
    expect(gateway.calls.map((c) => [c.type, c.payload])).toEqual([
      ['bills', { caller: expect.objectContaining({ role: 'customer' }), linkId: LINK, query: { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-04-01T11:30:00Z'), limit: 12 } }],
      ['purchases', { caller: expect.objectContaining({ role: 'customer' }), linkId: LINK, query: {} }],
      ['monthly-bills', { caller: expect.objectContaining({ role: 'customer' }), linkId: LINK, query: { year: 2025 } }],
    ]);
  });

  it('marks answers private, no-cache, and answers 304 with no body to a matching If-None-Match', async () => {
    const { get } = await setup();
    for (const [, path] of ROUTES) {
      const first = await get(path);
      expect(first.status, path).toBe(200);
      expect(first.headers.get('cache-control'), path).toBe('private, no-cache');
      const tag = first.headers.get('etag');
      expect(tag, path).toMatch(/^W\/"/);
      const again = await get(path, { 'if-none-match': tag! });
      expect(again.status, path).toBe(304);
      expect(await again.text(), path).toBe('');
    }
  });

  it('is documented in OpenAPI: the path parameter, the optional query fields with their units, and the answer', async () => {
    await setup();
    const doc = (await (await harness!.fetch('/openapi.json')).json()) as { paths: Record<string, Record<string, any>> };
    const params = (path: string) => (doc.paths[path]?.get.parameters as { name: string; in: string; required?: boolean }[]).map((p) => [p.in, p.name, p.required === true]);
    for (const path of ['/v1/meters/{linkId}/purchases', '/v1/meters/{linkId}/bills'])
      expect(params(path)).toEqual(expect.arrayContaining([['path', 'linkId', true], ['query', 'from', false], ['query', 'to', false], ['query', 'limit', false]]));
    for (const path of ['/v1/meters/{linkId}/purchases/monthly', '/v1/meters/{linkId}/bills/monthly']) expect(params(path)).toEqual(expect.arrayContaining([['query', 'year', false]]));
    const bill = JSON.stringify(doc.paths['/v1/meters/{linkId}/bills']?.get.responses['200']);
    expect(bill).toContain('totalFcfa');
    expect(bill).toContain('in FCFA');
    expect(bill).toContain('in kWh');
    const contract = JSON.stringify(doc.paths['/v1/meters/{linkId}/contract']?.get.responses['200']);
    for (const kind of ['"prepaid"', '"postpaid"']) expect(contract).toContain(kind);
  });

  it('needs a bearer token', async () => {
    const { gateway } = await setup();
    for (const [, path] of ROUTES) expect((await harness!.fetch(path)).status, path).toBe(401);
    expect(gateway.calls).toEqual([]);
  });

  it('answers a source outage as 503 SOURCE_UNAVAILABLE with Retry-After', async () => {
    const { get } = await setup({}, { bills: () => Promise.reject(new SourceUnavailableError('histh2mc', 4_500, 'not-running')) });
    const res = await get(`/v1/meters/${LINK}/bills`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await readProblem(res)).code).toBe('SOURCE_UNAVAILABLE');
  });
});
