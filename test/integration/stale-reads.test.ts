// StaleReads over the real Redis: ten concurrent misses of one key make one source call, and an outage past the
// TTL is answered from Redis, marked stale, while a failure that is not an outage is not.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCache } from '../../src/adapters/cache/redis-cache.js';
import { StaleReads, sourceKey } from '../../src/adapters/cache/stale-reads.js';
import { ManualClock } from '../../src/clock.js';
import { ServiceUnavailableError } from '../../src/errors/app-error.js';
import { servicesEnv } from '../support/services.js';

let redis: Redis;
let cache: RedisCache;
const prefix = `test:stale-reads:${randomBytes(6).toString('hex')}:`;
const clock = new ManualClock();
const policy = { ttlMs: 60_000, staleMs: 600_000 };

beforeAll(() => {
  redis = new Redis(servicesEnv().TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  cache = new RedisCache(redis, prefix);
});
afterAll(() => redis.quit());

describe('StaleReads (Redis)', () => {
  it('makes one source call for ten concurrent misses of one key', async () => {
    const reads = new StaleReads(async () => cache, clock, () => false);
    const key = sourceKey('sic', 'purchases', 1, { meter: randomBytes(4).toString('hex') });
    let calls = 0;
    const load = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50)); // a source call takes a while: the others arrive meanwhile
      return { rows: [1, 2, 3] };
    };
    const answers = await Promise.all(Array.from({ length: 10 }, () => reads.read(key, policy, load)));
    expect(calls).toBe(1);
    expect(answers.map((a) => a.value)).toEqual(Array.from({ length: 10 }, () => ({ rows: [1, 2, 3] })));
    // Kept past the TTL for the stale retention.
    expect(await redis.pttl(prefix + key)).toBeGreaterThan(policy.ttlMs);
  });

  it('answers an outage past the TTL from Redis, marked stale; a bad query is not answered from it', async () => {
    const reads = new StaleReads(async () => cache, clock, (e) => e instanceof ServiceUnavailableError);
    const key = sourceKey('histh2mc', 'bills', 1, { account: randomBytes(4).toString('hex') });
    await reads.read(key, policy, async () => ['bill']);
    clock.advance(policy.ttlMs + 1_000);
    const outage = async (): Promise<string[]> => {
      throw new ServiceUnavailableError('histh2mc', 'sql server down', 5_000);
    };
    expect(await reads.read(key, policy, outage)).toEqual({ value: ['bill'], stale: true, ageMs: policy.ttlMs + 1_000 });
    await expect(reads.read(key, policy, async () => Promise.reject(new RangeError('bad query')))).rejects.toThrow('bad query');
  });
});
