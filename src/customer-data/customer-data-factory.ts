// Builds the customer-data services from the configuration and the actors they ask (sources, cache).
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { resources } from '../resources.js';
import { CustomerDataReader } from './customer-data-reader.js';
import { SubscriptionLookup } from './subscription-lookup.js';

export function createSubscriptionLookup(config: Config, asker: Asker, clock: Clock): SubscriptionLookup {
  const reader = new CustomerDataReader({ asker, clock, queryTimeoutMs: config.sources.queryTimeoutMs });
  return new SubscriptionLookup({ reader, limit: (action, key) => resources(asker).limit(action, key) });
}
