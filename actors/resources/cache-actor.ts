// The cache resource actor: owns the Redis client (or the in-process cache of the embedded mode) and
// hands out a Cache that never throws. Redis away is state (backing-off, bypassed), not a crash.
import { Redis } from 'ioredis';
import type { Cache } from '../../src/adapters/cache/cache.js';
import { MemoryCache } from '../../src/adapters/cache/memory-cache.js';
import { RedisCache } from '../../src/adapters/cache/redis-cache.js';
import { createIpLimiter, type IpLimiter } from '../../src/adapters/cache/ip-limiter.js';
import type { CacheMessage } from '../../src/adapters/cache/cache-messages.js';
import { errorMessage } from '../../src/errors/app-error.js';
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import { backoffDelay, type BackoffPolicy } from '../../src/backoff.js';

export type CacheOptions =
  | { mode: 'memory'; maxEntries: number }
  | { mode: 'redis'; url: string; commandTimeoutMs?: number; reconnect?: Partial<BackoffPolicy> };

type Internal = { type: 'redis-up' } | { type: 'redis-down'; error: string };
type Msg = CacheMessage | Internal;

interface State {
  readonly cache: Cache;
  readonly redis: Redis | undefined;
  /** Shares the Redis client; falls back to in-memory counters while Redis is down. */
  readonly limiter: IpLimiter;
}

const RECONNECT: BackoffPolicy = { minMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };

export function cacheActor(options: CacheOptions): () => ActorBehaviour<State, Msg> {
  return () => ({
    init(ctx) {
      if (options.mode === 'memory') return { cache: new MemoryCache(ctx.clock, options.maxEntries), redis: undefined, limiter: createIpLimiter(undefined) };
      const reconnect = { ...RECONNECT, ...options.reconnect };
      const redis = new Redis(options.url, {
        // Fail fast while disconnected: a caller is served from the source instead of waiting.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeoutMs ?? 500,
        connectTimeout: 2_000,
        retryStrategy: (times) => backoffDelay(reconnect, times - 1, Math.random()),
        lazyConnect: false,
      });
      let up = false;
      redis.on('ready', () => {
        up = true;
        ctx.self.tell({ type: 'redis-up' });
      });
      redis.on('error', (e: unknown) => {
        if (up) ctx.log.warn({ err: e }, 'Redis error');
        ctx.self.tell({ type: 'redis-down', error: errorMessage(e) });
      });
      redis.on('close', () => {
        up = false;
        ctx.self.tell({ type: 'redis-down', error: 'connection closed' });
      });
      ctx.setStatus('backing-off', 'connecting to Redis (cache bypassed)');
      return { cache: new RedisCache(redis), redis, limiter: createIpLimiter(redis) };
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'lend':
          msg.replyTo.ok(s.cache);
          return s;
        case 'ip-limiter':
          msg.replyTo.ok(s.limiter);
          return s;
        case 'redis-up':
          ctx.log.info('Redis is up');
          ctx.setStatus('running');
          return s;
        case 'redis-down':
          if (s.redis?.status === 'ready') return s; // a stale event from before the reconnect
          ctx.setStatus('backing-off', `Redis unreachable (${msg.error}); cache bypassed`, new Error(msg.error));
          return s;
      }
    },

    async cleanup(s) {
      if (s.redis) {
        s.redis.removeAllListeners();
        s.redis.on('error', () => undefined);
        await s.redis.quit().catch(() => s.redis?.disconnect());
      }
    },
  });
}
