// Reference reads when the cache cannot say which edit version is current: the database answers, never an entry
// cached before the last edit (which a version read as '0' would find).
import { describe, expect, it } from 'vitest';
import type { ActorRef, Asker, Message } from '../../../src/actor-behaviour.js';
import { MemoryCache } from '../../../src/adapters/cache/memory-cache.js';
import type { PgHandle } from '../../../src/adapters/postgres/postgres-messages.js';
import { ManualClock } from '../../../src/clock.js';
import type { Caller } from '../../../src/contracts/caller.js';
import { REFERENCE_CACHE_KEYS, ReferenceService } from '../../../src/reference/index.js';
import { resources } from '../../../src/resources.js';

const VERSION_KEY = `${REFERENCE_CACHE_KEYS.agency}:version`;
const STALE = [{ code: 'OLD', name: 'Before the edit', active: true, updatedAt: '2026-01-01T00:00:00.000Z' }];
const customer: Caller = { userId: 'u1', role: 'customer', agency: null };

/**
 * A cache holding a pre-edit entry under version '0', whose read of the version key goes as `versionRead` says:
 * 'rejects' (the get fails), 'swallowed' (answered as a miss and counted as an error, as RedisCache does on a
 * Redis error), or 'miss' (no version recorded).
 */
function setup(versionRead: 'rejects' | 'swallowed' | 'miss') {
  const cache = new MemoryCache(new ManualClock(), 100);
  const get = cache.get.bind(cache);
  cache.get = async (key) => {
    if (key !== VERSION_KEY || versionRead === 'miss') return get(key);
    if (versionRead === 'rejects') throw new Error('redis: connection reset');
    cache.stats.errors++;
    return undefined;
  };
  let dbReads = 0;
  const db = {
    query: async () => {
      dbReads++;
      return { rows: [{ code: 'NEW', name: 'After the edit', active: true, updatedAt: new Date('2026-02-01T00:00:00Z') }], rowCount: 1 };
    },
  } as unknown as PgHandle;
  const asker: Asker = {
    ref: <M extends Message>(name: string): ActorRef<M> => ({ name, tell: () => {} }),
    query: () => Promise.reject(new Error('not used')),
    ask: (async (to: ActorRef<Message>) => (to.name === 'cache' ? cache : db)) as Asker['ask'],
  };
  const res = resources(asker);
  const service = new ReferenceService({ res, clock: new ManualClock() });
  return { cache, res, service, dbReads: () => dbReads };
}

describe('reference reads with the cache failing to give the edit version', () => {
  it('loads from the database, not the :0 entry, when the version read rejects', async () => {
    const { cache, res, service, dbReads } = setup('rejects');
    await cache.set(`${REFERENCE_CACHE_KEYS.agency}:0`, JSON.stringify(STALE), 60_000);
    expect(await res.cacheVersion(VERSION_KEY)).toBeUndefined();
    expect((await service.agencies(customer, false)).map((a) => a.code)).toEqual(['NEW']);
    expect(dbReads()).toBe(1);
  });

  it('loads from the database when the cache answers the version read as a miss but counts it as a failure', async () => {
    const { cache, res, service } = setup('swallowed');
    await cache.set(`${REFERENCE_CACHE_KEYS.agency}:0`, JSON.stringify(STALE), 60_000);
    expect(await res.cacheVersion(VERSION_KEY)).toBeUndefined();
    expect((await service.agencies(customer, false)).map((a) => a.code)).toEqual(['NEW']);
  });

  it("reads version '0' when none is recorded, and is then served from the cache", async () => {
    const { res, service, dbReads } = setup('miss');
    expect(await res.cacheVersion(VERSION_KEY)).toBe('0');
    expect((await service.agencies(customer, false)).map((a) => a.code)).toEqual(['NEW']);
    expect((await service.agencies(customer, false)).map((a) => a.code)).toEqual(['NEW']);
    // The second read was the cache's.
    expect(dbReads()).toBe(1);
  });
});
