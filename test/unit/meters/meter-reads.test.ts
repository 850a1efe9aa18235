// MeterReads over a fake links table and the real CustomerDataReader on a fake asker: rule 5 before any source, the
// named read and its parameters per route (defaults, periods, the clock's year), twelve months with totals, both
// contract shapes, and a source actor that is not running answering as the source's own 503/504.
import { describe, expect, it } from 'vitest';
import type { ActorRef, Asker, Message } from '../../../src/actor-behaviour.js';
import { MemoryCache } from '../../../src/adapters/cache/memory-cache.js';
import type { SourceQuery, SourceRow } from '../../../src/adapters/mssql/source-messages.js';
import { ManualClock } from '../../../src/clock.js';
import type { Caller } from '../../../src/contracts/caller.js';
import { CustomerDataReader, SOURCE_NOT_RUNNING_RETRY_AFTER_MS } from '../../../src/customer-data/index.js';
import { ActorCrashedError, ActorNotFoundError, ActorRestartingError, ActorStoppedError, QueryTimeoutError } from '../../../src/errors/actor-errors.js';
import { MeterReads, type MeterLinkRow, type Queryable } from '../../../src/meters/index.js';
import { SourceQueryError } from '../../../src/adapters/mssql/source-errors.js';

const ALICE = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000b0';
const PREPAID = '11111111-1111-4111-8111-111111111111';
const POSTPAID = '22222222-2222-4222-8222-222222222222';
const alice: Caller = { userId: ALICE, role: 'customer', agency: null };
const bob: Caller = { userId: BOB, role: 'customer', agency: null };

const row = (id: string, kind: 'prepaid' | 'postpaid', meter: string, police: string | null): MeterLinkRow => ({
  id, user_id: ALICE, kind, meter, police, agency_code: 'PIKINE', owner: true, state: 'active', is_default: false,
  created_at: new Date('2026-01-01T00:00:00Z'), decided_at: null,
});
const LINKS = [row(PREPAID, 'prepaid', '14212345678', '5551234'), row(POSTPAID, 'postpaid', '300012345', null)];

interface Ask {
  readonly to: string;
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
}

function setup() {
  const clock = new ManualClock(Date.UTC(2027, 4, 10, 12));
  const cache = new MemoryCache(clock, 100);
  const asks: Ask[] = [];
  let answer: (q: SourceQuery) => Promise<readonly SourceRow[]> = async () => [];
  const asker: Asker = {
    ref: <M extends Message>(name: string): ActorRef<M> => ({ name, tell: () => {} }),
    query: () => Promise.reject(new Error('not used')),
    ask: (async (to: ActorRef<Message>, _type: string, payload: { query: SourceQuery }) => {
      if (to.name === 'cache') return cache;
      asks.push({ to: to.name, name: payload.query.name, params: payload.query.params });
      return answer(payload.query);
    }) as Asker['ask'],
  };
  const db: Queryable = {
    query: (async (_text: string, values?: unknown[]) => {
      const rows = LINKS.filter((l) => l.id === values?.[0]);
      return { rows, rowCount: rows.length };
    }) as Queryable['query'],
  };
  const reads = new MeterReads({ db: async () => db, reader: new CustomerDataReader({ asker, clock, queryTimeoutMs: 10_000 }), clock });
  return { reads, asks, answerWith: (f: (q: SourceQuery) => Promise<readonly SourceRow[]>) => (answer = f) };
}

describe('MeterReads', () => {
  it("answers another customer's link and an unknown id with the same 404, before any source is asked", async () => {
    const s = setup();
    for (const read of [() => s.reads.purchases(bob, PREPAID, {}), () => s.reads.bills(bob, POSTPAID, {}), () => s.reads.contract(bob, POSTPAID), () => s.reads.monthlyBills(alice, 'not-a-link', {})])
      await expect(read()).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND', message: 'No such meter link.' });
    expect(s.asks).toEqual([]);
  });

  it('refuses bills of a prepaid meter and purchases of a postpaid one with METER_KIND_MISMATCH, asking no source', async () => {
    const s = setup();
    await expect(s.reads.bills(alice, PREPAID, {})).rejects.toMatchObject({ code: 'METER_KIND_MISMATCH' });
    await expect(s.reads.monthlyBills(alice, PREPAID, {})).rejects.toMatchObject({ code: 'METER_KIND_MISMATCH' });
    await expect(s.reads.purchases(alice, POSTPAID, {})).rejects.toMatchObject({ code: 'METER_KIND_MISMATCH' });
    await expect(s.reads.monthlyPurchases(alice, POSTPAID, {})).rejects.toMatchObject({ code: 'METER_KIND_MISMATCH' });
    expect(s.asks).toEqual([]);
  });

  it('reads the latest 10 purchases (6 bills) by default, and a period with its limit when from and to are given', async () => {
    const s = setup();
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-04-01T00:00:00Z');
    expect(await s.reads.purchases(alice, PREPAID, {})).toEqual({ linkId: PREPAID, meter: '14212345678', purchases: [] });
    await s.reads.purchases(alice, PREPAID, { from, to, limit: 3 });
    expect(await s.reads.bills(alice, POSTPAID, {})).toEqual({ linkId: POSTPAID, contractAccount: '300012345', bills: [] });
    await s.reads.bills(alice, POSTPAID, { from, to });
    expect(s.asks.map(({ to, name, params }) => ({ to, name, params }))).toEqual([
      { to: 'source-sic', name: 'latest-purchases', params: { meter: '14212345678', police: '5551234', limit: 10 } },
      { to: 'source-sic', name: 'purchases-in-period', params: { meter: '14212345678', police: '5551234', from, to, limit: 3 } },
      { to: 'source-histh2mc', name: 'latest-bills', params: { account: '300012345', limit: 6 } },
      { to: 'source-histh2mc', name: 'bills-in-period', params: { account: '300012345', from, to, limit: 6 } },
    ]);
  });

  it("answers twelve months of the clock's current year by default, zeros where the source has none, with the totals", async () => {
    const s = setup();
    s.answerWith(async (q) =>
      q.name === 'monthly-bills'
        ? [{ month: 2, bills: '1', amount: '15000.60', energy: '150.5' }, { month: 4, bills: 2, amount: 9500, energy: 90 }]
        : [{ month: 3, purchases: '2', amount: 2500, energy: null }],
    );
    const bills = await s.reads.monthlyBills(alice, POSTPAID, {});
    expect(s.asks.at(-1)).toMatchObject({ name: 'monthly-bills', params: { account: '300012345', year: 2027 } });
    expect(bills.year).toBe(2027);
    expect(bills.months.map((m) => m.month)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(bills.months[1]).toEqual({ month: 2, bills: 1, totalFcfa: 15001, energyKwh: 150.5 });
    expect(bills.months[0]).toEqual({ month: 1, bills: 0, totalFcfa: 0, energyKwh: 0 });
    expect(bills.total).toEqual({ bills: 3, totalFcfa: 24501, energyKwh: 240.5 });
    const purchases = await s.reads.monthlyPurchases(alice, PREPAID, { year: 2026 });
    expect(s.asks.at(-1)).toMatchObject({ name: 'monthly-purchases', params: { year: 2026 } });
    expect(purchases.months[2]).toEqual({ month: 3, purchases: 2, amountPaidFcfa: 2500, energyKwh: 0 });
    expect(purchases.total).toEqual({ purchases: 2, amountPaidFcfa: 2500, energyKwh: 0 });
  });

  it('answers a postpaid contract from SIC and BI_ODS, and a prepaid one from SIC, null where the source has nothing', async () => {
    const s = setup();
    s.answerWith(async (q) =>
      q.name === 'postpaid-account'
        ? [{ 'COMPTE CONTRAT': '300012345', 'N PARTENAIRE': '0001000001', TELEPHONE: '76 000 00 01', ADRESSE: 'HLM 5', TARIF: 'DPP', CLIENT: 'DIOP AWA', AGENCE: 'PIKINE' }]
        : q.name === 'contract-details'
          ? [{ VKONT: '000300012345', GPART: '0001000001', NAME_FIRST: 'Awa', NAME_LAST: 'Diop', TELNR_CALL: '77 500 00 01', SMTP_ADDR: 'awa@example.sn' }]
          : [],
    );
    expect(await s.reads.contract(alice, POSTPAID)).toEqual({
      kind: 'postpaid', linkId: POSTPAID, contractAccount: '300012345', partner: '1000001', firstName: 'Awa', lastName: 'Diop',
      email: 'awa@example.sn', tariff: 'DPP', name: 'DIOP AWA', address: 'HLM 5', agency: 'PIKINE', phone: '+221775000001',
    });
    expect(s.asks.find((a) => a.name === 'contract-details')).toMatchObject({ to: 'source-bi_ods', params: { account: '000300012345' } });
    expect(await s.reads.contract(alice, PREPAID)).toEqual({
      kind: 'prepaid', linkId: PREPAID, meterNumber: '14212345678', police: '5551234', customerNumber: null, usage: null, name: null,
      address: null, agency: 'PIKINE', phone: null,
    });
  });

  it("answers a prepaid contract from the row of the link's POC when SIC holds a former customer's row beside it", async () => {
    const s = setup();
    const infos = (poc: string, name: string, tel: string) => ({ 'N° COMPTEUR': '14212345678', POC: poc, tel, 'N° CLIENT': null, ADRESSE: null, usage: null, CLIENT: name, agence: 'PIKINE' });
    s.answerWith(async (q) => (q.name === 'prepaid-customer' ? [infos('4440000', 'FORMER TENANT', '77 111 11 11'), infos('5551234', 'CURRENT HOLDER', '77 222 22 22')] : []));
    expect(await s.reads.contract(alice, PREPAID)).toMatchObject({ police: '5551234', name: 'CURRENT HOLDER', phone: '+221772222222' });
  });

  it("keeps the holder's phone and e-mail from a customer who reads the meter without owning it; agents see them", async () => {
    const s = setup();
    s.answerWith(async (q) =>
      q.name === 'contract-details'
        ? [{ VKONT: '000300012345', GPART: '0001000001', NAME_FIRST: 'Awa', NAME_LAST: 'Diop', TELNR_CALL: '77 500 00 01', SMTP_ADDR: 'awa@example.sn' }]
        : [],
    );
    LINKS[1] = { ...LINKS[1]!, owner: false };
    try {
      expect(await s.reads.contract(alice, POSTPAID)).toMatchObject({ firstName: 'Awa', phone: null, email: null });
      const agent: Caller = { userId: BOB, role: 'agent', agency: 'PIKINE' };
      expect(await s.reads.contract(agent, POSTPAID)).toMatchObject({ phone: '+221775000001', email: 'awa@example.sn' });
    } finally {
      LINKS[1] = { ...LINKS[1]!, owner: true };
    }
  });

  it('answers a source actor that is not running as 503 SOURCE_UNAVAILABLE with Retry-After, and its silence as SOURCE_TIMEOUT', async () => {
    for (const error of [new ActorRestartingError('source-histh2mc'), new ActorStoppedError('source-histh2mc'), new ActorNotFoundError('source-histh2mc')]) {
      const s = setup();
      s.answerWith(() => Promise.reject(error));
      await expect(s.reads.bills(alice, POSTPAID, {})).rejects.toMatchObject({
        code: 'SOURCE_UNAVAILABLE', source: 'histh2mc', reason: 'not-running', retryAfterMs: SOURCE_NOT_RUNNING_RETRY_AFTER_MS, cause: error,
      });
    }
    const s = setup();
    s.answerWith(() => Promise.reject(new QueryTimeoutError('source-sic', 'query', 21_000)));
    await expect(s.reads.purchases(alice, PREPAID, {})).rejects.toMatchObject({ code: 'SOURCE_TIMEOUT', source: 'sic', query: 'latest-purchases', deadlineMs: 21_000 });
  });

  it('leaves a query error and a crash of the source actor as they are (faults, not outages)', async () => {
    const s = setup();
    s.answerWith(() => Promise.reject(new SourceQueryError('sic', 'latest-purchases', 208)));
    await expect(s.reads.purchases(alice, PREPAID, {})).rejects.toMatchObject({ code: 'SOURCE_QUERY_FAILED' });
    s.answerWith(() => Promise.reject(new ActorCrashedError('source-sic', new Error('boom'))));
    await expect(s.reads.contract(alice, PREPAID)).rejects.toMatchObject({ code: 'ACTOR_CRASHED' });
  });
});
