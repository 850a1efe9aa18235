// How service actors reach the resource actors: a handle per use, so restarts and outages are seen at once.
import { randomUUID } from 'node:crypto';
import type { Asker } from './actor-behaviour.js';
import type { Cache } from './adapters/cache/cache.js';
import type { CacheMessage } from './adapters/cache/cache-messages.js';
import { createIpLimiter, type IpLimiter, type LimitedAction } from './adapters/cache/ip-limiter.js';
import type { PgHandle, PostgresMessage } from './adapters/postgres/postgres-messages.js';
import { StorageUnavailableError, type ObjectStore, type ObjectsMessage } from './adapters/s3/objects-messages.js';
import { errorCode } from './errors/app-error.js';

export interface Resources {
  /** The database handle; rejects with DATABASE_UNAVAILABLE (503) while PostgreSQL is down. */
  db(): Promise<PgHandle>;
  /** Object storage; rejects with STORAGE_UNAVAILABLE (503) while it is down, restarting or not running here. */
  objects(): Promise<ObjectStore>;
  /** Read-through cache that never fails the caller: with no cache at hand, `load` runs directly. */
  cached<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T>;
  /** Counts one request of `action` for `key` on the shared limiter (Redis when configured); rejects with 429. */
  limit(action: LimitedAction, key: string): Promise<void>;
  /**
   * The current version of a family of cached entries (`'0'` until one is recorded): readers put it in their keys, so
   * entries of an older version are never read again. Undefined when it cannot be read (the cache away or failing):
   * the reader then bypasses the cache, since any entry it found might predate the last edit.
   */
  cacheVersion(key: string): Promise<string | undefined>;
  /** Moves the family to a new version (in Redis: for every API instance); never fails — without a cache, TTLs bound it. */
  bumpCacheVersion(key: string, ttlMs: number): Promise<void>;
}

// While the cache actor restarts this process counts alone: a limit that lapsed for a restart would let a prober
// through exactly when the cache is away.
const fallbackLimiter = createIpLimiter(undefined);

export function resources(asker: Asker, deadlineMs = 1_000): Resources {
  const cache = (): Promise<Cache> => asker.ask<CacheMessage, 'lend'>(asker.ref<CacheMessage>('cache'), 'lend', {}, deadlineMs);
  return {
    db: () => asker.ask<PostgresMessage, 'lend'>(asker.ref<PostgresMessage>('postgres'), 'lend', {}, deadlineMs),
    async objects() {
      try {
        return await asker.ask<ObjectsMessage, 'lend'>(asker.ref<ObjectsMessage>('objects'), 'lend', {}, deadlineMs);
      } catch (e) {
        // Restarting, stopped, absent or slow: to the caller it is storage they cannot use now.
        throw errorCode(e) === 'STORAGE_UNAVAILABLE' ? e : new StorageUnavailableError('Object storage is not available now.', 1_000, { cause: e });
      }
    },
    async cached(key, ttlMs, load) {
      let c: Cache;
      try {
        c = await cache();
      } catch {
        return load();
      }
      return c.wrap(key, ttlMs, load);
    },
    async limit(action, key) {
      let limiter: IpLimiter;
      try {
        limiter = await asker.ask(asker.ref<CacheMessage>('cache'), 'ip-limiter', {}, deadlineMs);
      } catch {
        limiter = fallbackLimiter;
      }
      await limiter.consume(action, key);
    },
    async cacheVersion(key) {
      try {
        const c = await cache();
        const errors = c.stats.errors;
        const version = await c.get(key);
        // Cache.get answers its own failure as a miss (and counts it): a failure during this read, ours or another
        // caller's, leaves the version unknown. A needless bypass costs one load; a wrong '0' could serve a stale entry.
        if (c.stats.errors !== errors) return undefined;
        return version ?? '0';
      } catch {
        return undefined;
      }
    },
    async bumpCacheVersion(key, ttlMs) {
      try {
        await (await cache()).set(key, randomUUID(), ttlMs);
      } catch {
        // The cache actor is away: the family's entries expire by their TTL.
      }
    },
  };
}
