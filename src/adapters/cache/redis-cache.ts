// The Redis cache: commands fail fast while Redis is away (no offline queue, short timeout) and are bypassed.
import type { Redis } from 'ioredis';
import { readThrough, type Cache, type CacheStats } from './cache.js';

export class RedisCache implements Cache {
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0 };

  constructor(private readonly redis: Redis, private readonly prefix = 'samaconso:cache:', private readonly onError: (e: unknown) => void = () => {}) {}

  async get(key: string): Promise<string | undefined> {
    try {
      const v = await this.redis.get(this.prefix + key);
      if (v === null) this.stats.misses++;
      else this.stats.hits++;
      return v ?? undefined;
    } catch (e) {
      this.failed(e);
      return undefined;
    }
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (e) {
      this.failed(e);
    }
  }

  async del(key: string): Promise<void> {
    try {
      await this.redis.del(this.prefix + key);
    } catch (e) {
      this.failed(e);
    }
  }

  wrap<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    return readThrough(this, key, ttlMs, load);
  }

  private failed(e: unknown): void {
    this.stats.errors++;
    this.onError(e);
  }
}
