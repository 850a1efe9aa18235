// How long each named read is served from the cache, how long it is kept for outages, and its cache key version.
import type { StaleReadPolicy } from '../adapters/cache/stale-reads.js';
import { billsInPeriod, latestBills, monthlyBills } from './bills.js';
import { contractDetails } from './contract.js';
import { postpaidAccount, prepaidCustomer } from './meter-lookups.js';
import { latestPurchases, monthlyPurchases, purchasesInPeriod } from './purchases.js';
import { subscriptionSteps } from './subscription-steps.js';

export interface ReadCachePolicy extends StaleReadPolicy {
  /** Part of the cache key: bump it when the query's mapped rows change shape, so no old entry is ever read. */
  readonly version: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// An answer a day old still beats an error while a source is down; the answer says how old it is.
const KEPT_FOR_OUTAGES = 24 * HOUR;

// A sale or a bill shows up minutes after it happens: customers check right after paying.
const SALES_AND_BILLS = { ttlMs: 5 * MINUTE, staleMs: KEPT_FOR_OUTAGES } as const;
// Who a meter or a contract belongs to changes rarely (a move, a new holder).
const LOOKUPS = { ttlMs: HOUR, staleMs: KEPT_FOR_OUTAGES } as const;
// A subscription request moves while the customer watches it.
const STEPS = { ttlMs: MINUTE, staleMs: KEPT_FOR_OUTAGES } as const;

const POLICIES: ReadonlyMap<string, ReadCachePolicy> = new Map([
  [prepaidCustomer.name, { ...LOOKUPS, version: 1 }],
  [postpaidAccount.name, { ...LOOKUPS, version: 1 }],
  [contractDetails.name, { ...LOOKUPS, version: 1 }],
  [latestPurchases.name, { ...SALES_AND_BILLS, version: 1 }],
  [purchasesInPeriod.name, { ...SALES_AND_BILLS, version: 1 }],
  [monthlyPurchases.name, { ...SALES_AND_BILLS, version: 1 }],
  [latestBills.name, { ...SALES_AND_BILLS, version: 1 }],
  [billsInPeriod.name, { ...SALES_AND_BILLS, version: 1 }],
  [monthlyBills.name, { ...SALES_AND_BILLS, version: 1 }],
  [subscriptionSteps.name, { ...STEPS, version: 1 }],
]);

/** The policy of a named read; a read without one is a programming error (a test checks every read has one). */
export function readCachePolicy(queryName: string): ReadCachePolicy {
  const policy = POLICIES.get(queryName);
  if (!policy) throw new Error(`no cache policy for the read ${queryName}`);
  return policy;
}
