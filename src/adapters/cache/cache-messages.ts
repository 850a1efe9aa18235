// Messages of the cache resource actor: it owns the client and hands out a Cache that never throws.
import type { Cache } from './cache.js';
import type { IpLimiter } from './ip-limiter.js';
import type { Reply } from '../../contracts/reply.js';

export type CacheMessage = { type: 'lend'; replyTo: Reply<Cache> } | { type: 'ip-limiter'; replyTo: Reply<IpLimiter> };
