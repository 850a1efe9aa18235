// The push scheduler on a ManualClock: strict urgent with reserved slots, weighted sharing without
// starvation, split low batches, backpressure, and the rate limit (600,000/min, 429 pauses).
import { describe, expect, it } from 'vitest';
import type { PriorityQueue } from '../../../src/domain/priority.js';
import { ManualClock } from '../../../src/clock.js';
import { PushScheduler, type PushSchedulerOptions, type Scheduled } from '../../../src/domain/push-scheduler.js';
import { TokenBucket, type RateLimit } from '../../../src/domain/token-bucket.js';

interface Batch {
  id: string;
  from: number;
  to: number;
}

const unlimited: RateLimit = { tryTake: () => true, msUntil: () => 0, pauseUntil: () => {} };

function scheduler(options: Partial<PushSchedulerOptions<Batch>> = {}): PushScheduler<Batch> {
  return new PushScheduler<Batch>({
    rateLimit: unlimited,
    maxInFlight: 8,
    reservedForUrgent: 2,
    capacity: 1_000_000,
    split: (item, from, to) => ({ id: item.id, from: item.from + from, to: item.from + to }),
    ...options,
  });
}

let seq = 0;
function work(queue: PriorityQueue, size = 100) {
  const id = `${queue}-${seq++}`;
  return { queue, size, item: { id, from: 0, to: size } };
}

describe('PushScheduler options', () => {
  it('rejects inconsistent options', () => {
    expect(() => scheduler({ maxInFlight: 2, reservedForUrgent: 2 })).toThrow(RangeError);
    expect(() => scheduler({ splitLowAbove: 100, split: undefined })).toThrow(RangeError);
    expect(() => scheduler({ weights: { high_priority: 6, normal: 0, low_priority: 1 } })).toThrow(RangeError);
    expect(() => scheduler().offer(work('normal', 0))).toThrow(RangeError);
  });
});

describe('urgent is strict', () => {
  it('goes before anything queued earlier in the other queues', () => {
    const s = scheduler();
    for (let i = 0; i < 3; i++) {
      s.offer(work('low_priority'));
      s.offer(work('normal'));
      s.offer(work('high_priority'));
    }
    s.offer(work('urgent'));
    s.offer(work('urgent'));
    expect(s.next()?.queue).toBe('urgent');
    expect(s.next()?.queue).toBe('urgent');
    expect(s.next()?.queue).toBe('high_priority');
  });

  it('gets a reserved slot while every shared slot is busy', () => {
    const s = scheduler({ maxInFlight: 4, reservedForUrgent: 1 });
    for (let i = 0; i < 10; i++) s.offer(work('normal'));
    const sent = [s.next(), s.next(), s.next()];
    expect(sent.every((w) => w?.queue === 'normal')).toBe(true);
    expect(s.next()).toBeUndefined(); // the last slot is urgent's
    expect(s.msUntilNext()).toBeUndefined();
    s.offer(work('urgent'));
    expect(s.msUntilNext()).toBe(0);
    const u = s.next();
    expect(u?.queue).toBe('urgent');
    expect(s.snapshot().inFlight).toBe(4);
    // A second urgent waits only for what is in flight: the first slot to free is its.
    s.offer(work('urgent'));
    expect(s.next()).toBeUndefined();
    s.done(sent[0]!);
    expect(s.next()?.queue).toBe('urgent');
  });

  it('may use shared slots too, and shared queues never take the reserved ones', () => {
    const s = scheduler({ maxInFlight: 4, reservedForUrgent: 1 });
    for (let i = 0; i < 4; i++) s.offer(work('urgent'));
    const urgent = [s.next(), s.next(), s.next(), s.next()];
    expect(urgent.every((w) => w?.queue === 'urgent')).toBe(true);
    s.offer(work('high_priority'));
    expect(s.next()).toBeUndefined();
    s.done(urgent[0]!);
    expect(s.next()?.queue).toBe('high_priority'); // 3 urgent hold the reserve: one shared slot free
    s.done(urgent[1]!);
    s.offer(work('high_priority'));
    expect(s.next()?.queue).toBe('high_priority');
  });
});

describe('weights', () => {
  it('with high, normal and low saturated, shares hand-outs 6:3:1', () => {
    const s = scheduler();
    for (const q of ['high_priority', 'normal', 'low_priority'] as const) for (let i = 0; i < 5; i++) s.offer(work(q));
    const n = 1_000;
    const counts: Record<string, number> = { high_priority: 0, normal: 0, low_priority: 0 };
    for (let i = 0; i < n; i++) {
      const w = s.next()!;
      counts[w.queue]! += 1;
      s.done(w);
      s.offer(work(w.queue)); // keep every queue saturated
    }
    expect(Math.abs(counts.high_priority! - 600)).toBeLessThanOrEqual(1);
    expect(Math.abs(counts.normal! - 300)).toBeLessThanOrEqual(1);
    expect(Math.abs(counts.low_priority! - 100)).toBeLessThanOrEqual(1);
    expect(s.snapshot().queues.low_priority.handedOutItems).toBe(counts.low_priority);
  });

  it('shares tokens, not batches: split low chunks count by size', () => {
    const s = scheduler({ splitLowAbove: 100 });
    s.offer(work('high_priority', 500));
    s.offer(work('low_priority', 500));
    const tokens: Record<string, number> = { high_priority: 0, low_priority: 0 };
    for (let i = 0; i < 600; i++) {
      const w = s.next()!;
      tokens[w.queue]! += w.size;
      s.done(w);
      if (w.queue === 'high_priority' || w.part.index === w.part.of - 1) s.offer(work(w.queue, 500));
    }
    const ratio = tokens.high_priority! / tokens.low_priority!;
    expect(ratio).toBeGreaterThan(5.5);
    expect(ratio).toBeLessThan(6.5);
  });

  it('an idle queue earns no credit: it does not burst when it comes back', () => {
    const s = scheduler();
    for (let i = 0; i < 100; i++) {
      s.offer(work('high_priority'));
      s.done(s.next()!);
    }
    s.offer(work('high_priority'));
    s.offer(work('high_priority'));
    for (let i = 0; i < 5; i++) s.offer(work('normal'));
    const order = [0, 1, 2].map(() => {
      const w = s.next()!;
      s.done(w);
      return w.queue;
    });
    expect(order.filter((q) => q === 'high_priority').length).toBeGreaterThanOrEqual(1);
  });

  it('low keeps progressing while urgent arrives at half the pool capacity', () => {
    const maxInFlight = 8;
    const s = scheduler({ maxInFlight, reservedForUrgent: 2 });
    for (const q of ['high_priority', 'normal', 'low_priority'] as const) for (let i = 0; i < 20; i++) s.offer(work(q));
    const rounds = 200;
    let urgentOffered = 0;
    let inFlight: Scheduled<Batch>[] = [];
    for (let r = 0; r < rounds; r++) {
      // Each send takes one round; urgent arrives at half the slots per round.
      for (const w of inFlight) {
        s.done(w);
        if (w.queue !== 'urgent') s.offer(work(w.queue));
      }
      inFlight = [];
      for (let i = 0; i < maxInFlight / 2; i++, urgentOffered++) s.offer(work('urgent'));
      for (let w = s.next(); w; w = s.next()) inFlight.push(w);
    }
    const q = s.snapshot().queues;
    expect(q.urgent.handedOutItems).toBe(urgentOffered); // every urgent served in the round it came
    expect(q.urgent.queuedItems).toBe(0);
    const shared = q.high_priority.handedOutItems + q.normal.handedOutItems + q.low_priority.handedOutItems;
    expect(shared).toBe(rounds * (maxInFlight / 2));
    expect(Math.abs(q.low_priority.handedOutItems - shared / 10)).toBeLessThanOrEqual(1);
    expect(Math.abs(q.high_priority.handedOutItems - (shared * 6) / 10)).toBeLessThanOrEqual(1);
  });
});

describe('splitting low batches', () => {
  it('hands a 500-token low batch out as 5 chunks, and urgent slips between them', () => {
    const s = scheduler({ splitLowAbove: 100 });
    const big = work('low_priority', 500);
    expect(s.offer(big)).toBe(true);
    expect(s.snapshot().queues.low_priority).toMatchObject({ queuedItems: 5, queuedTokens: 500 });
    const first = s.next()!;
    expect(first).toMatchObject({ queue: 'low_priority', size: 100, item: { from: 0, to: 100 }, part: { index: 0, of: 5 } });
    expect(first.origin).toBe(big);
    s.offer(work('urgent'));
    expect(s.next()?.queue).toBe('urgent');
    const rest = [s.next()!, s.next()!, s.next()!, s.next()!];
    expect(rest.map((w) => [w.item.from, w.item.to])).toEqual([
      [100, 200],
      [200, 300],
      [300, 400],
      [400, 500],
    ]);
    expect(s.next()).toBeUndefined();
    // The origin is complete (the consumer may ack) only when its last chunk is done.
    expect(s.done(rest[3]!)).toBe(false);
    expect(s.done(first)).toBe(false);
    expect(s.done(rest[0]!)).toBe(false);
    expect(s.done(rest[1]!)).toBe(false);
    expect(s.done(rest[2]!)).toBe(true);
    expect(() => s.done(first)).toThrow();
  });

  it('does not split other queues or small low batches', () => {
    const s = scheduler({ splitLowAbove: 100 });
    s.offer(work('high_priority', 500));
    s.offer(work('low_priority', 100));
    expect(s.snapshot().queues.high_priority.queuedItems).toBe(1);
    expect(s.snapshot().queues.low_priority.queuedItems).toBe(1);
    const a = s.next()!;
    expect(a.size).toBe(500);
    expect(s.done(a)).toBe(true);
  });
});

describe('backpressure', () => {
  it('refuses an offer when the queue is full and calls onSpace when it has room again', () => {
    const spaced: PriorityQueue[] = [];
    const s = scheduler({ capacity: 1_000, onSpace: (q) => spaced.push(q) });
    const other: PriorityQueue[] = [];
    const off = s.onSpace((q) => other.push(q));
    expect(s.offer(work('low_priority', 500))).toBe(true);
    expect(s.offer(work('low_priority', 500))).toBe(true);
    expect(s.isFull('low_priority')).toBe(true);
    expect(s.offer(work('low_priority', 500))).toBe(false);
    expect(s.snapshot().queues.low_priority.queuedTokens).toBe(1_000);
    // Other queues are bounded on their own: a low backlog never stops urgent from being accepted.
    expect(s.offer(work('urgent', 500))).toBe(true);
    expect(s.isFull('urgent')).toBe(false);
    expect(s.next()?.queue).toBe('urgent');
    expect(spaced).toEqual([]); // urgent never refused, so no signal for it
    expect(s.next()?.queue).toBe('low_priority');
    expect(spaced).toEqual(['low_priority']);
    expect(other).toEqual(['low_priority']);
    off();
    expect(s.offer(work('low_priority', 500))).toBe(true);
    expect(s.offer(work('low_priority', 500))).toBe(false);
    s.next();
    expect(spaced).toEqual(['low_priority', 'low_priority']);
    expect(other).toEqual(['low_priority']);
  });

  it('an empty queue accepts a batch above its capacity', () => {
    const s = scheduler({ capacity: 100 });
    expect(s.offer(work('normal', 500))).toBe(true);
    expect(s.offer(work('normal', 1))).toBe(false);
  });
});

describe('rate limit', () => {
  it('at 600,000/min hands out no more than the rate over a simulated minute', () => {
    const clock = new ManualClock();
    const start = clock.now();
    const bucket = new TokenBucket(clock, { capacity: 10_000, refillPerSecond: 10_000, initial: 0 });
    const s = scheduler({ rateLimit: bucket, maxInFlight: 64, reservedForUrgent: 4, splitLowAbove: 100 });
    for (const q of ['high_priority', 'normal', 'low_priority'] as const) for (let i = 0; i < 10; i++) s.offer(work(q, 500));
    const perSecond = new Array<number>(60).fill(0);
    let checks = 0;
    while (clock.now() - start < 60_000) {
      for (let w = s.next(); w; w = s.next()) {
        perSecond[Math.floor((clock.now() - start) / 1000)]! += w.size;
        s.done(w); // instant sends: only the rate limit holds them back
        if (w.part.index === w.part.of - 1) s.offer(work(w.queue, 500));
      }
      const wait = s.msUntilNext();
      expect(wait).toBeGreaterThan(0);
      clock.advance(wait!);
      checks++;
    }
    const total = perSecond.reduce((a, n) => a + n, 0);
    expect(total).toBeLessThanOrEqual(600_000);
    expect(total).toBeGreaterThan(590_000);
    for (const n of perSecond) expect(n).toBeLessThanOrEqual(10_000 + 500);
    expect(checks).toBeLessThan(10_000); // it waits as told, no busy polling
  });

  it('a 429 pause for Retry-After 30 s hands out nothing for 30 s, then resumes', () => {
    const clock = new ManualClock();
    const bucket = TokenBucket.perMinute(clock, 600_000);
    const s = scheduler({ rateLimit: bucket });
    for (let i = 0; i < 5; i++) s.offer(work('normal'));
    s.done(s.next()!);
    bucket.pauseFor(30_000);
    s.offer(work('urgent'));
    expect(s.next()).toBeUndefined();
    expect(s.msUntilNext()).toBe(30_000);
    for (let t = 0; t < 30_000; t += 1_000) {
      expect(s.next()).toBeUndefined();
      clock.advance(1_000);
      if (t + 1_000 < 30_000) expect(s.msUntilNext()).toBe(30_000 - t - 1_000);
    }
    expect(s.msUntilNext()).toBe(0);
    expect(s.next()?.queue).toBe('urgent'); // urgent first after the pause, too
    expect(s.next()?.queue).toBe('normal');
    expect(s.snapshot().queues.normal.handedOutItems).toBe(2);
  });

  it('a denied batch stays at the head and does not move the weights', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { capacity: 100, refillPerSecond: 100, initial: 0 });
    const s = scheduler({ rateLimit: bucket });
    s.offer(work('high_priority', 100));
    s.offer(work('low_priority', 100));
    expect(s.next()).toBeUndefined();
    expect(s.msUntilNext()).toBe(1_000);
    clock.advance(1_000);
    expect(s.next()?.queue).toBe('high_priority');
  });
});
