// Builds the customer-data services from the configuration and the actors they ask (sources, cache).
import type { Asker } from '../actor-behaviour.js';
import type { CacheMessage } from '../adapters/cache/cache-messages.js';
import { createIpLimiter, type IpLimiter, type LimitedAction } from '../adapters/cache/ip-limiter.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { CustomerDataReader } from './customer-data-reader.js';
import { SubscriptionLookup } from './subscription-lookup.js';

// While the cache actor restarts this process counts alone (the accounts service does the same): a limit that
// lapses for a restart would let a prober through exactly when the cache is away.
const fallbackLimiter = createIpLimiter(undefined);

/** Counts one request on the cache actor's shared limiter (Redis when configured). */
export function cacheLimit(asker: Asker): (action: LimitedAction, key: string) => Promise<void> {
  return async (action, key) => {
    let limiter: IpLimiter;
    try {
      limiter = await asker.ask(asker.ref<CacheMessage>('cache'), 'ip-limiter', {}, 1_000);
    } catch {
      limiter = fallbackLimiter;
    }
    await limiter.consume(action, key);
  };
}

export function createSubscriptionLookup(config: Config, asker: Asker, clock: Clock): SubscriptionLookup {
  const reader = new CustomerDataReader({ asker, clock, queryTimeoutMs: config.sources.queryTimeoutMs });
  return new SubscriptionLookup({ reader, limit: cacheLimit(asker) });
}
