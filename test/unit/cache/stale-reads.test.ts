// StaleReads over the in-process cache on a manual clock: fresh within the TTL, stale answers only for outages and
// only within the retention, one load for concurrent misses, and reads that go on when no cache is at hand.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../../src/adapters/cache/memory-cache.js';
import { StaleReads, sourceKey, type StaleReadPolicy } from '../../../src/adapters/cache/stale-reads.js';
import { ManualClock } from '../../../src/clock.js';
import { AppError } from '../../../src/errors/app-error.js';

class Outage extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
}

const POLICY: StaleReadPolicy = { ttlMs: 60_000, staleMs: 3_600_000 };

function setup(options: { cache?: 'memory' | 'none'; localEntries?: number } = {}) {
  const clock = new ManualClock();
  const cache = new MemoryCache(clock, 100);
  const reads = new StaleReads(async () => (options.cache === 'none' ? undefined : cache), clock, (e) => e instanceof Outage, options.localEntries);
  let calls = 0;
  let next: () => Promise<number> = async () => ++calls;
  const load = () => next();
  return { clock, cache, reads, load, calls: () => calls, failWith: (e: Error) => (next = async () => { calls++; throw e; }) };
}

describe('StaleReads', () => {
  it('serves a loaded answer as fresh within its TTL, then loads again', async () => {
    const s = setup();
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 1, stale: false, ageMs: 0 });
    s.clock.advance(59_000);
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 1, stale: false, ageMs: 59_000 });
    expect(s.calls()).toBe(1);
    s.clock.advance(1_000);
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 2, stale: false, ageMs: 0 });
    expect(s.calls()).toBe(2);
  });

  it('answers an outage past the TTL with the older answer, marked stale with its age', async () => {
    const s = setup();
    await s.reads.read('k', POLICY, s.load);
    s.clock.advance(120_000);
    s.failWith(new Outage('source down'));
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 1, stale: true, ageMs: 120_000 });
    expect(s.calls()).toBe(2);
  });

  it('never answers a failure that is not an outage from the cache', async () => {
    const s = setup();
    await s.reads.read('k', POLICY, s.load);
    s.clock.advance(120_000);
    s.failWith(new RangeError('bad query'));
    await expect(s.reads.read('k', POLICY, s.load)).rejects.toThrow('bad query');
  });

  it('keeps a stale answer only for the retention: past TTL + staleMs the outage is the answer', async () => {
    const s = setup();
    await s.reads.read('k', POLICY, s.load);
    s.clock.advance(POLICY.ttlMs + POLICY.staleMs);
    s.failWith(new Outage('source down'));
    await expect(s.reads.read('k', POLICY, s.load)).rejects.toBeInstanceOf(Outage);
  });

  it('makes one source call for ten concurrent misses of one key', async () => {
    const s = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const slowLoad = async () => {
      calls++;
      await gate;
      return 'answer';
    };
    const reads = Promise.all(Array.from({ length: 10 }, () => s.reads.read('k', POLICY, slowLoad)));
    await new Promise((r) => setImmediate(r));
    release();
    const answers = await reads;
    expect(calls).toBe(1);
    expect(answers.every((a) => a.value === 'answer' && !a.stale)).toBe(true);
  });

  it('never fails for want of a cache: with none at hand it holds the answer in this process for its TTL, then loads again', async () => {
    const s = setup({ cache: 'none' });
    await s.reads.read('k', POLICY, s.load);
    s.clock.advance(59_000);
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 1, stale: false, ageMs: 59_000 });
    s.clock.advance(1_000);
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 2, stale: false, ageMs: 0 });
    expect(s.calls()).toBe(2);
  });

  it('answers a fresh read from this process without asking the shared cache, and only while it is fresh', async () => {
    const s = setup();
    let gets = 0;
    const get = s.cache.get.bind(s.cache);
    s.cache.get = async (key: string) => {
      gets += 1;
      return get(key);
    };
    await s.reads.read('k', POLICY, s.load);
    const afterLoad = gets;
    s.clock.advance(30_000);
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 1, stale: false, ageMs: 30_000 });
    expect(gets).toBe(afterLoad);
    s.clock.advance(30_000);
    await s.reads.read('k', POLICY, s.load);
    expect(gets).toBe(afterLoad + 1);
    expect(s.calls()).toBe(2);
  });

  it('holds at most localEntries answers, the oldest dropped first; 0 holds none', async () => {
    const two = setup({ cache: 'none', localEntries: 2 });
    for (const k of ['a', 'b', 'c']) await two.reads.read(k, POLICY, two.load);
    await two.reads.read('c', POLICY, two.load);
    await two.reads.read('b', POLICY, two.load);
    expect(two.calls()).toBe(3);
    await two.reads.read('a', POLICY, two.load);
    expect(two.calls()).toBe(4);
    const none = setup({ cache: 'none', localEntries: 0 });
    await none.reads.read('k', POLICY, none.load);
    expect(await none.reads.read('k', POLICY, none.load)).toEqual({ value: 2, stale: false, ageMs: 0 });
  });

  it('keys answers by source, query, version and parameters', () => {
    const key = sourceKey('sic', 'purchases', 1, { meter: '123', limit: 10 });
    expect(key).toMatch(/^src:sic:purchases:v1:/);
    expect(sourceKey('sic', 'purchases', 1, { meter: '123', limit: 10 })).toBe(key);
    expect(sourceKey('sic', 'purchases', 2, { meter: '123', limit: 10 })).not.toBe(key);
    expect(sourceKey('sic', 'purchases', 1, { meter: '124', limit: 10 })).not.toBe(key);
    expect(sourceKey('histh2mc', 'purchases', 1, { meter: '123', limit: 10 })).not.toBe(key);
  });
});
