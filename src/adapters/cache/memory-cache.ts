// The in-process cache of the embedded mode: TTL on the injected clock, oldest entries evicted past a bound.
import type { Clock } from '../../clock.js';
import { readThrough, type Cache, type CacheStats } from './cache.js';

export class MemoryCache implements Cache {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0 };

  constructor(private readonly clock: Clock, private readonly maxEntries: number) {}

  async get(key: string): Promise<string | undefined> {
    const e = this.entries.get(key);
    if (!e || e.expiresAt <= this.clock.now()) {
      if (e) this.entries.delete(key);
      this.stats.misses++;
      return undefined;
    }
    // Map order is insertion order: re-inserting makes it the most recently used.
    this.entries.delete(key);
    this.entries.set(key, e);
    this.stats.hits++;
    return e.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  async del(key: string): Promise<void> {
    this.entries.delete(key);
  }

  wrap<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    return readThrough(this, key, ttlMs, load);
  }

  clear(): void {
    this.entries.clear();
  }
}
