// How service actors reach the resource actors: a handle per use, so restarts and outages are seen at once.
import type { Asker } from './actor-behaviour.js';
import type { Cache } from './adapters/cache/cache.js';
import type { CacheMessage } from './adapters/cache/cache-messages.js';
import type { PgHandle, PostgresMessage } from './adapters/postgres/postgres-messages.js';

export interface Resources {
  /** The database handle; rejects with DATABASE_UNAVAILABLE (503) while PostgreSQL is down. */
  db(): Promise<PgHandle>;
  /** Read-through cache that never fails the caller: with no cache at hand, `load` runs directly. */
  cached<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T>;
}

export function resources(asker: Asker, deadlineMs = 1_000): Resources {
  const cache = (): Promise<Cache> => asker.ask<CacheMessage, 'lend'>(asker.ref<CacheMessage>('cache'), 'lend', {}, deadlineMs);
  return {
    db: () => asker.ask<PostgresMessage, 'lend'>(asker.ref<PostgresMessage>('postgres'), 'lend', {}, deadlineMs),
    async cached(key, ttlMs, load) {
      let c: Cache;
      try {
        c = await cache();
      } catch {
        return load();
      }
      return c.wrap(key, ttlMs, load);
    },
  };
}
