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

function setup(options: { cache?: 'memory' | 'none' } = {}) {
  const clock = new ManualClock();
  const cache = new MemoryCache(clock, 100);
  const reads = new StaleReads(async () => (options.cache === 'none' ? undefined : cache), clock, (e) => e instanceof Outage);
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

  it('loads every time, and never fails for it, when no cache is at hand', async () => {
    const s = setup({ cache: 'none' });
    await s.reads.read('k', POLICY, s.load);
    expect(await s.reads.read('k', POLICY, s.load)).toEqual({ value: 2, stale: false, ageMs: 0 });
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
