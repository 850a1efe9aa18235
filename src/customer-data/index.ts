// The utility's customer data as named queries (SIC, HISTH2MC, BI_ODS): what other features may use.
import type { AnySourceQuery } from '../adapters/mssql/source-query.js';
import { registerAppMeter } from './app-meter-registry.js';
import { billsInPeriod, latestBills, monthlyBills } from './bills.js';
import { contractDetails } from './contract.js';
import { postpaidAccount, prepaidCustomer } from './meter-lookups.js';
import { latestPurchases, monthlyPurchases, purchasesInPeriod } from './purchases.js';
import { subscriptionSteps } from './subscription-steps.js';

export { registerAppMeter } from './app-meter-registry.js';
export { billsInPeriod, latestBills, monthlyBills } from './bills.js';
export { contractDetails } from './contract.js';
export { SOURCE_NOT_RUNNING_RETRY_AFTER_MS, asSourceOutage } from './source-outage.js';
export { readCachePolicy } from './cache-policies.js';
export { createSubscriptionLookup } from './customer-data-factory.js';
export { type CustomerDataAnswer, CustomerDataReader, staleness, isSourceOutageForReads } from './customer-data-reader.js';
export { postpaidAccount, prepaidCustomer } from './meter-lookups.js';
export { latestPurchases, monthlyPurchases, purchasesInPeriod } from './purchases.js';
export { type SubscriptionStep, subscriptionSteps } from './subscription-steps.js';
export { SubscriptionLookup, SubscriptionNotFoundError } from './subscription-lookup.js';

/** Every named query, for what checks or serves them all (the catalogue test, the TDS peer, the twin comparison). */
export const SOURCE_QUERIES: readonly AnySourceQuery[] = [
  prepaidCustomer,
  postpaidAccount,
  registerAppMeter,
  latestPurchases,
  purchasesInPeriod,
  monthlyPurchases,
  latestBills,
  billsInPeriod,
  monthlyBills,
  contractDetails,
  subscriptionSteps,
];
