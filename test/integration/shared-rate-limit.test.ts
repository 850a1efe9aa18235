// SharedRateLimit against a private Redis: two workers share one project budget, see each other's pause,
// fall back to their share when Redis dies and go back to Redis when it returns. Real clock; bounds are
// totals over a window, generous but well below what two unshared buckets would grant.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock.js';
import { SharedRateLimit, type SharedRateLimitOptions } from '../../src/adapters/cache/shared-rate-limit.js';
import { startPrivateRedis, type PrivateRedis } from '../support/services.js';

const clock = new SystemClock();
const RATE_PER_MINUTE = 6_000; // 100 per second
const PER_MS = RATE_PER_MINUTE / 60_000;
const BURST = 20;
const CHUNK = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Takes one token at a time from each limiter as fast as they allow for `ms`; returns the counts. */
async function drain(limits: SharedRateLimit[], ms: number): Promise<number[]> {
  const taken = limits.map(() => 0);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    limits.forEach((l, i) => {
      while (l.tryTake(1)) taken[i]! += 1;
    });
    await sleep(2);
  }
  return taken;
}

/**
 * Takes `n` tokens at a time from one limiter for `ms`, waiting between tries as long as its msUntil(n) says (as the
 * push pipeline does); returns the count.
 */
async function drainPaced(limit: SharedRateLimit, n: number, ms: number): Promise<number> {
  let taken = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (limit.tryTake(n)) taken += n;
    else await sleep(Math.max(1, Math.min(limit.msUntil(n), end - Date.now())));
  }
  return taken;
}

describe('SharedRateLimit (private Redis)', () => {
  let redis: PrivateRedis;
  const open: SharedRateLimit[] = [];

  const make = (projectId: string, extra: Partial<SharedRateLimitOptions> = {}): SharedRateLimit => {
    const l = new SharedRateLimit({
      redis: redis.url,
      clock,
      projectId,
      ratePerMinute: RATE_PER_MINUTE,
      workerCount: 2,
      burst: BURST,
      chunk: CHUNK,
      refillEveryMs: 20,
      commandTimeoutMs: 200,
      ...extra,
    });
    open.push(l);
    return l;
  };
  const project = (): string => `p-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('two workers on one project never jointly exceed the shared budget, and both get some', async () => {
    const p = project();
    const started = Date.now();
    const a = make(p);
    const b = make(p);
    const [ta, tb] = (await drain([a, b], 1_000)) as [number, number];
    const elapsed = Date.now() - started;
    // All they took was leased from the one Redis bucket: at most its burst plus its refill over the window.
    // Two unshared buckets would grant about twice this (2 × (20 + 100)).
    expect(ta + tb).toBeLessThanOrEqual(BURST + PER_MS * elapsed + 5);
    expect(ta + tb).toBeGreaterThanOrEqual(60);
    // Jittered lease timers and per-lease fair shares keep one from starving the other.
    expect(ta).toBeGreaterThanOrEqual(15);
    expect(tb).toBeGreaterThanOrEqual(15);
    expect(a.stats()).toMatchObject({ mode: 'redis', fallbacks: 0 });
    expect(b.stats()).toMatchObject({ mode: 'redis', fallbacks: 0 });
  });

  it('a lone busy worker of two, paced by msUntil, reaches the project’s rate (what Redis grants), not its fallback share', async () => {
    const a = make(project());
    const started = Date.now();
    const taken = await drainPaced(a, 2 * CHUNK, 2_000);
    const elapsed = Date.now() - started;
    // The bucket's refill over the window, its burst aside: well over the half a pacing at this worker's share of
    // the rate (workerCount 2) would take.
    expect(taken - BURST).toBeGreaterThanOrEqual(0.75 * PER_MS * elapsed);
    expect(a.stats().mode).toBe('redis');
  });

  it('a pause set by one worker is seen by the other, and both grant again after it', async () => {
    const p = project();
    const a = make(p);
    const b = make(p);
    await waitFor('b to lease a chunk', () => b.stats().stock >= CHUNK);
    a.pauseUntil(Date.now() + 600);
    // B learns the pause on its next lease, even with a full local stock.
    await waitFor('b to see the pause', () => b.msUntil(1) > 100, 1_000);
    expect(b.tryTake(1)).toBe(false);
    expect(a.tryTake(1)).toBe(false);
    await waitFor('the pause to end for b', () => b.tryTake(1), 3_000);
    await waitFor('the pause to end for a', () => a.tryTake(1), 3_000);
  });

  it('falls back to its share when Redis dies (counted), and uses Redis again when it returns', async () => {
    const p = project();
    const fallbackErrors: unknown[] = [];
    const a = make(p, { onFallback: (e) => fallbackErrors.push(e) });
    const b = make(p);
    await waitFor('both to lease', () => a.stats().leased > 0 && b.stats().leased > 0);

    await redis.kill();
    try {
      await waitFor('both to fall back', () => a.stats().mode === 'local' && b.stats().mode === 'local', 3_000);
      expect(a.stats().fallbacks).toBe(1);
      expect(b.stats().fallbacks).toBe(1);
      expect(fallbackErrors).toHaveLength(1);

      // Each grants at most its share (50 per second) plus its share of the burst (10), starting empty.
      const started = Date.now();
      const [ta, tb] = (await drain([a, b], 1_000)) as [number, number];
      const elapsed = Date.now() - started;
      const cap = BURST / 2 + (PER_MS / 2) * elapsed + 3;
      expect(ta).toBeLessThanOrEqual(cap);
      expect(tb).toBeLessThanOrEqual(cap);
      expect(ta).toBeGreaterThanOrEqual(20);
      expect(tb).toBeGreaterThanOrEqual(20);
      expect(a.stats().redisErrors).toBeGreaterThan(1);
    } finally {
      await redis.start();
    }

    const leasedA = a.stats().leased;
    const leasedB = b.stats().leased;
    await waitFor('both back on Redis', () => a.stats().mode === 'redis' && b.stats().mode === 'redis', 5_000);
    await waitFor('both to lease again', () => a.stats().leased > leasedA && b.stats().leased > leasedB, 3_000);
    expect(a.stats().fallbacks).toBe(1);

    // Back on the shared bucket: jointly within the budget again.
    const started = Date.now();
    await drain([a, b], 100); // spend what is in stock
    const [ta, tb] = (await drain([a, b], 800)) as [number, number];
    const elapsed = Date.now() - started;
    expect(ta + tb).toBeLessThanOrEqual(BURST + 2 * CHUNK + PER_MS * elapsed + 5);
    expect(ta + tb).toBeGreaterThan(0);
  });

  it('grants a batch larger than the chunk once enough has been leased', async () => {
    const a = make(project());
    await waitFor('a batch of 35 (chunk 10)', () => a.tryTake(35), 3_000);
    expect(a.stats().mode).toBe('redis');
  });

  it('close() stops leasing and is idempotent', async () => {
    const a = make(project());
    await waitFor('a lease', () => a.stats().leased > 0);
    await a.close();
    const leased = a.stats().leased;
    await sleep(100);
    expect(a.stats().leased).toBe(leased);
    await a.close();
  });
});
