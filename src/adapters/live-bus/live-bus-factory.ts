// Builds the live bus a node uses.
import type { Logger } from '../../logger.js';
import type { LiveBus } from './live-bus.js';
import { MemoryLiveBus } from './memory-live-bus.js';
import { RedisLiveBus } from './redis-live-bus.js';

/** The bus for a node: Redis when it has one (every process of a deployment shares it), else in process. */
export function createLiveBus(options: { mode: 'redis'; url: string; receive?: boolean; log?: Logger } | { mode: 'memory'; log?: Logger }): LiveBus {
  return options.mode === 'redis'
    ? new RedisLiveBus({ url: options.url, ...(options.receive === false ? { receive: false } : {}), ...(options.log ? { log: options.log } : {}) })
    : new MemoryLiveBus(options.log);
}
