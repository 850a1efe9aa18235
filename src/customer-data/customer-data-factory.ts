// Builds the customer-data services from the process's reader of the utility's data and the actors they ask (cache).
import type { Asker } from '../actor-behaviour.js';
import { resources } from '../resources.js';
import type { CustomerDataReader } from './customer-data-reader.js';
import { SubscriptionLookup } from './subscription-lookup.js';

export function createSubscriptionLookup(reader: CustomerDataReader, asker: Asker): SubscriptionLookup {
  return new SubscriptionLookup({ reader, limit: (action, key) => resources(asker).limit(action, key) });
}
