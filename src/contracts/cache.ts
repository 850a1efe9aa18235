// Messages of the cache resource actor: it owns the client and hands out a Cache that never throws.
import type { Cache } from '../cache/cache.js';
import type { IpLimiter } from '../limits/ip-limiter.js';
import type { Reply } from './reply.js';

export type CacheMessage = { type: 'handle'; replyTo: Reply<Cache> } | { type: 'ip-limiter'; replyTo: Reply<IpLimiter> };
