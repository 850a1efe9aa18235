// The utility's customer data as named queries (SIC, HISTH2MC, BI_ODS): what other features may use.
import type { AnySourceQuery } from '../adapters/mssql/source-query.js';
import { registerAppMeter } from './app-meter-registry.js';
import { billsInPeriod, latestBills, monthlyBills } from './bills.js';
import { contractDetails } from './contract.js';
import { postpaidAccount, prepaidCustomer } from './meter-lookups.js';
import { latestPurchases, monthlyPurchases, purchasesInPeriod } from './purchases.js';
import { subscriptionSteps } from './subscription-steps.js';

export { registerAppMeter } from './app-meter-registry.js';
export { type Bill, billsInPeriod, latestBills, monthlyBills } from './bills.js';
export { type ContractDetails, contractDetails } from './contract.js';
export { type ReadCachePolicy, readCachePolicy } from './cache-policies.js';
export { createSubscriptionLookup } from './customer-data-factory.js';
export { type CustomerDataAnswer, CustomerDataReader, staleness, type CustomerDataReaderOptions, isSourceOutageForReads } from './customer-data-reader.js';
export { type PostpaidAccount, type PrepaidCustomer, postpaidAccount, prepaidCustomer } from './meter-lookups.js';
export { type Purchase, latestPurchases, monthlyPurchases, purchasesInPeriod } from './purchases.js';
export { type SubscriptionStep, subscriptionSteps } from './subscription-steps.js';
export { SubscriptionLookup, type SubscriptionLookupDeps, SubscriptionNotFoundError } from './subscription-lookup.js';

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
