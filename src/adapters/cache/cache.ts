// The cache contract: a failure of the cache never fails a caller — it is bypassed and counted.

export interface CacheStats {
  hits: number;
  misses: number;
  /** Cache operations that failed (Redis down, timeout) and were bypassed. */
  errors: number;
}

export interface Cache {
  /** The cached string, or undefined on a miss or a cache failure. */
  get(key: string): Promise<string | undefined>;
  /** Stores a value; a failure is counted and swallowed. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Read-through: the cached JSON value, or `load()` stored for ttlMs. Errors of `load` propagate. */
  wrap<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T>;
  readonly stats: Readonly<CacheStats>;
}

/** Shared read-through logic over get/set for every implementation. */
export async function readThrough<T>(cache: Pick<Cache, 'get' | 'set'>, key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
  const hit = await cache.get(key);
  if (hit !== undefined) {
    try {
      return JSON.parse(hit) as T;
    } catch {
      // A corrupt entry is a miss.
    }
  }
  const value = await load();
  await cache.set(key, JSON.stringify(value), ttlMs);
  return value;
}
