// The parameter fields the customer-data queries share: meter and account numbers, limits, periods, years.
import { z } from 'zod';

/** A meter, POC, contract-account or notice number as the utility writes it: the sources keep them as text. */
export const utilityNumber = z.string().trim().min(1).max(32);

/** How many rows a list may return: the API's defaults are 10 purchases and 6 bills. */
export const rowLimit = z.number().int().min(1).max(500);

/** One end of a period: from inclusive, to exclusive. */
export const instant = z.date();

/** A calendar year of monthly totals. */
export const year = z.number().int().min(2000).max(2100);

/** A period's start must come before its end. */
export function periodInOrder(period: { from: Date; to: Date }): boolean {
  return period.from.getTime() < period.to.getTime();
}
