// The token bucket on a ManualClock: never above the rate, partial and all-or-nothing grants, 429 pauses.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { TokenBucket } from '../../../src/domain/token-bucket.js';

const PER_MINUTE = 600_000; // 10,000/s
const PER_MS = PER_MINUTE / 60_000;

describe('TokenBucket', () => {
  it('rejects bad options and counts', () => {
    const clock = new ManualClock();
    expect(() => new TokenBucket(clock, { capacity: 0, refillPerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket(clock, { capacity: 1, refillPerSecond: -1 })).toThrow(RangeError);
    expect(() => new TokenBucket(clock, { capacity: 1, refillPerSecond: 1 }).take(1.5)).toThrow(RangeError);
  });

  it('grants partially with take and all-or-nothing with tryTake', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(clock, { capacity: 100, refillPerSecond: 100 });
    expect(b.take(70)).toBe(70);
    expect(b.take(70)).toBe(30);
    expect(b.take(1)).toBe(0);
    expect(b.msUntil(50)).toBe(500);
    clock.advance(499);
    expect(b.tryTake(50)).toBe(false);
    clock.advance(1);
    expect(b.tryTake(50)).toBe(true);
    expect(b.available()).toBe(0);
  });

  it('at 600,000/min never exceeds the rate over a simulated minute', () => {
    const clock = new ManualClock();
    const capacity = 10_000;
    const b = new TokenBucket(clock, { capacity, refillPerSecond: PER_MINUTE / 60, initial: 0 });
    const grantedAt: number[] = []; // tokens granted in each ms
    for (let ms = 0; ms < 60_000; ms++) {
      // A greedy sender asking for more than the bucket can ever give.
      grantedAt.push(b.take(1_000));
      clock.advance(1);
    }
    const total = grantedAt.reduce((a, n) => a + n, 0);
    expect(total).toBeLessThanOrEqual(PER_MINUTE);
    expect(total).toBeGreaterThanOrEqual(PER_MINUTE - 1_000);
    // Every window of W ms: at most the burst plus W ms of refill.
    for (const w of [1, 10, 1_000, 10_000]) {
      let sum = 0;
      let max = 0;
      for (let i = 0; i < grantedAt.length; i++) {
        sum += grantedAt[i]!;
        if (i >= w) sum -= grantedAt[i - w]!;
        max = Math.max(max, sum);
      }
      expect(max).toBeLessThanOrEqual(capacity + w * PER_MS);
    }
  });

  it('a full bucket starts with one burst, then holds the rate', () => {
    const clock = new ManualClock();
    const b = TokenBucket.perMinute(clock, PER_MINUTE);
    expect(b.capacity).toBe(10_000);
    let total = 0;
    for (let ms = 0; ms <= 60_000; ms += 100) {
      total += b.take(50_000);
      clock.advance(100);
    }
    expect(total).toBeLessThanOrEqual(PER_MINUTE + 10_000);
  });

  it('a pause for Retry-After 30 s grants nothing for 30 s, then resumes', () => {
    const clock = new ManualClock();
    const b = TokenBucket.perMinute(clock, PER_MINUTE);
    b.pauseFor(30_000);
    expect(b.msUntil(1)).toBe(30_000);
    for (let ms = 0; ms < 30_000; ms += 250) {
      expect(b.take(100)).toBe(0);
      expect(b.tryTake(1)).toBe(false);
      expect(b.msUntil(1)).toBe(30_000 - ms);
      clock.advance(250);
    }
    expect(b.msUntil(1)).toBe(0);
    expect(b.take(100)).toBe(100);
    expect(b.tryTake(100)).toBe(true);
  });

  it('keeps the later of two pauses', () => {
    const clock = new ManualClock();
    const b = TokenBucket.perMinute(clock, PER_MINUTE);
    b.pauseFor(10_000);
    b.pauseFor(2_000);
    clock.advance(5_000);
    expect(b.take(1)).toBe(0);
    clock.advance(5_000);
    expect(b.take(1)).toBe(1);
  });

  it('grants a request above the capacity from a full bucket and pays the debt back', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(clock, { capacity: 100, refillPerSecond: 100 });
    expect(b.tryTake(250)).toBe(true);
    expect(b.available()).toBe(-150);
    expect(b.msUntil(250)).toBe(2_500);
    clock.advance(2_500);
    expect(b.tryTake(250)).toBe(true);
  });
});
