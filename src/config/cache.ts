// The shared cache: Redis (REDIS_URL), or an in-process one in development.
import { z } from 'zod';
import { int, optionalUrl } from './env-fields.js';

export const cacheEnv = z.object({
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  CACHE_MAX_ENTRIES: int(10_000, 10),
});

export type CacheConfig = { mode: 'redis'; url: string; maxEntries: number } | { mode: 'memory'; maxEntries: number };

export function cacheConfig(e: z.infer<typeof cacheEnv>): CacheConfig {
  return e.REDIS_URL ? { mode: 'redis', url: e.REDIS_URL, maxEntries: e.CACHE_MAX_ENTRIES } : { mode: 'memory', maxEntries: e.CACHE_MAX_ENTRIES };
}
