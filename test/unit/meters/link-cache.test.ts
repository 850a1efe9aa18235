// The link cache under readableLink, over a recording links table, a bus the test switches and a manual clock: a
// repeated check asks no PostgreSQL; an ending (announced or local) sends the next check to PostgreSQL, which 404s;
// nothing is trusted while the bus is down nor after it came back; entries expire and are bounded; only active rows;
// and the event goes through the real schema of the in-process bus.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { MemoryLiveBus } from '../../../src/adapters/live-bus/memory-live-bus.js';
import type { Caller } from '../../../src/contracts/caller.js';
import type { Logger } from '../../../src/logger.js';
import { silentLogger } from '../../../src/logger.js';
import { LinkCache, readableLink, type MeterLinkRow, type Queryable } from '../../../src/meters/index.js';
import { SwitchableBus } from '../../support/switchable-live-bus.js';

const ALICE = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000b0';
const L1 = '11111111-1111-4111-8111-111111111111';
const L2 = '22222222-2222-4222-8222-222222222222';
const L3 = '33333333-3333-4333-8333-333333333333';
const alice: Caller = { userId: ALICE, role: 'customer', agency: null };
const bob: Caller = { userId: BOB, role: 'customer', agency: null };

const row = (id: string, state: MeterLinkRow['state'] = 'active'): MeterLinkRow => ({
  id, user_id: ALICE, kind: 'postpaid', meter: '300012345', police: null, agency_code: 'PIKINE', owner: true, state, is_default: false,
  created_at: new Date('2026-01-01T00:00:00Z'), decided_at: null,
});

/** meter_links as readableLink sees it; counts the queries; `gate` holds a query until the test releases it. */
function table(rows: MeterLinkRow[]) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const state = { queries: 0, gate: undefined as Promise<void> | undefined };
  const db: Queryable = {
    query: (async (_text: string, values?: unknown[]) => {
      state.queries++;
      const found = byId.get(values?.[0] as string);
      const answer = found ? [{ ...found }] : [];
      if (state.gate) await state.gate;
      return { rows: answer, rowCount: answer.length };
    }) as Queryable['query'],
  };
  return { db: async () => db, byId, state };
}

function setup(options: { ttlMs?: number; maxEntries?: number; log?: Logger } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const bus = new SwitchableBus(true);
  const cache = new LinkCache({ bus, clock, log: options.log ?? silentLogger(), ...options });
  cache.start();
  const t = table([row(L1), row(L2), row(L3)]);
  const check = (id: string, caller: Caller = alice) => readableLink(t.db, caller, id, cache);
  return { clock, bus, cache, t, check };
}

describe('LinkCache', () => {
  it('answers a repeated check of an active link from memory, without a query, and still applies rule 5 to the caller', async () => {
    const s = setup();
    expect((await s.check(L1)).id).toBe(L1);
    expect((await s.check(L1)).id).toBe(L1);
    expect(s.t.state.queries).toBe(1);
    await expect(s.check(L1, bob)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(s.cache.stats()).toMatchObject({ trusted: true, entries: 1, hits: 2, misses: 1 });
  });

  it('refuses a caller in the time an unknown id takes (the lookup runs all the same), and a refused load warms nothing', async () => {
    const s = setup();
    await expect(s.check(L1, bob)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(s.t.state.queries).toBe(1);
    expect(s.cache.stats()).toMatchObject({ entries: 0 });
    await s.check(L1);
    expect(s.t.state.queries).toBe(2);
    // Now remembered for alice: bob's probe of it still costs the lookup an unknown id costs.
    await expect(s.check(L1, bob)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    await expect(s.check('00000000-0000-4000-8000-00000000dead', bob)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(s.t.state.queries).toBe(4);
  });

  it('forgets a link another instance announces ended: the next check asks PostgreSQL and answers 404', async () => {
    const s = setup();
    await s.check(L1);
    s.t.byId.set(L1, row(L1, 'ended'));
    s.bus.deliver({ v: 1, kind: 'links-ended', linkIds: [L1] });
    await expect(s.check(L1)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(s.t.state.queries).toBe(2);
    await expect(s.check(L1)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(s.t.state.queries).toBe(3); // an ended link is never remembered
  });

  it('forgets the links this instance ended at once and announces them on the bus', async () => {
    const s = setup();
    await s.check(L1);
    await s.check(L2);
    const before = s.t.state.queries;
    s.t.byId.set(L1, row(L1, 'ended'));
    s.cache.ended([L1]);
    expect(s.bus.published).toEqual([{ v: 1, kind: 'links-ended', linkIds: [L1] }]);
    await expect(s.check(L1)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    await s.check(L2);
    expect(s.t.state.queries).toBe(before + 1);
    expect(s.cache.stats().forgotten).toBe(1);
  });

  it('trusts nothing while the bus is down: every check asks PostgreSQL and nothing is kept', async () => {
    const s = setup();
    await s.check(L1);
    s.bus.set(false);
    await s.check(L1);
    await s.check(L1);
    expect(s.t.state.queries).toBe(3);
    expect(s.cache.stats()).toMatchObject({ trusted: false, entries: 0 });
  });

  it('does not trust entries made before the bus went down once it is back (announcements may have been lost)', async () => {
    const s = setup();
    await s.check(L1);
    s.bus.set(false);
    s.bus.set(true);
    s.t.byId.set(L1, row(L1, 'ended')); // ended elsewhere while the bus was away: its announcement never came
    await expect(s.check(L1)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(s.t.state.queries).toBe(2);
  });

  it('uses an entry only while younger than the TTL', async () => {
    const s = setup({ ttlMs: 30_000 });
    await s.check(L1);
    s.clock.advance(29_999);
    await s.check(L1);
    expect(s.t.state.queries).toBe(1);
    s.clock.advance(1);
    await s.check(L1);
    expect(s.t.state.queries).toBe(2);
  });

  it('holds at most maxEntries, dropping the oldest first', async () => {
    const s = setup({ maxEntries: 2 });
    await s.check(L1);
    await s.check(L2);
    await s.check(L3);
    expect(s.cache.stats().entries).toBe(2);
    await s.check(L3);
    await s.check(L2);
    expect(s.t.state.queries).toBe(3);
    await s.check(L1);
    expect(s.t.state.queries).toBe(4);
  });

  it('never remembers a pending link nor an id that is no link', async () => {
    const s = setup();
    s.t.byId.set(L1, row(L1, 'pending'));
    const missing = '44444444-4444-4444-8444-444444444444';
    for (let i = 0; i < 2; i++) {
      await expect(s.check(L1)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
      await expect(s.check(missing)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    }
    expect(s.t.state.queries).toBe(4);
    expect(s.cache.stats().entries).toBe(0);
  });

  it('does not keep a row loaded before an ending that arrived while the load was in flight', async () => {
    const s = setup();
    let release = (): void => undefined;
    s.t.state.gate = new Promise<void>((r) => (release = r));
    const inFlight = s.check(L1); // reads the row while still active
    await Promise.resolve();
    s.t.byId.set(L1, row(L1, 'ended'));
    s.bus.deliver({ v: 1, kind: 'links-ended', linkIds: [L1] });
    release();
    await inFlight; // that read began before the ending: it may answer, but must not be remembered
    s.t.state.gate = undefined;
    await expect(s.check(L1)).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(s.cache.stats().entries).toBe(0);
  });

  it('logs an ending it could not announce, and still forgets it here', async () => {
    const warnings: string[] = [];
    const log = { ...silentLogger(), warn: (_o: unknown, msg: string) => void warnings.push(msg) } as unknown as Logger;
    const s = setup({ log });
    await s.check(L1);
    s.bus.isUp = false; // publishing fails, and no status report has come yet
    s.cache.ended([L1]);
    await s.check(L1);
    expect(s.t.state.queries).toBe(2);
    await expect.poll(() => warnings).toEqual(['ended links not announced; other instances may answer them until their entries expire']);
  });

  it('hears links-ended through the real event schema (the in-process bus parses as Redis messages are), and drops a malformed one', async () => {
    const bus = new MemoryLiveBus();
    const cache = new LinkCache({ bus, clock: new ManualClock(), log: silentLogger() });
    cache.start();
    const t = table([row(L1), row(L2)]);
    await readableLink(t.db, alice, L1, cache);
    await readableLink(t.db, alice, L2, cache);
    bus.deliver(JSON.stringify({ v: 1, kind: 'links-ended', linkIds: ['not-a-uuid'] }));
    expect(bus.stats().malformed).toBe(1);
    await bus.publish({ v: 1, kind: 'links-ended', linkIds: [L1] });
    await expect.poll(() => cache.stats().forgotten).toBe(1);
    await readableLink(t.db, alice, L2, cache);
    expect(t.state.queries).toBe(2);
    cache.close();
    await bus.close();
  });
});
