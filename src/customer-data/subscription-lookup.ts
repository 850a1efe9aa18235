// Answers a subscription request's steps to whoever gives its phone on file, and to nobody else.
import type { LimitedAction } from '../adapters/cache/ip-limiter.js';
import type { SubscriptionLookupInput, SubscriptionRequest } from '../contracts/customer-data-messages.js';
import { AppError } from '../errors/app-error.js';
import { type CustomerDataReader, staleness } from './customer-data-reader.js';
import { type SubscriptionStep, subscriptionSteps } from './subscription-steps.js';

/**
 * No request with this number, or not with this phone: one error for both, so the answer never tells a prober
 * that a number exists (DOMAIN.md: a request is shown only to its phone).
 */
export class SubscriptionNotFoundError extends AppError {
  readonly code = 'SUBSCRIPTION_NOT_FOUND';
  constructor() {
    super('No subscription request with this number and phone.');
  }
}

export interface SubscriptionLookupDeps {
  readonly reader: Pick<CustomerDataReader, 'read'>;
  /** Counts one request under an action's limit; rejects with TooManyRequestsError over it. */
  readonly limit: (action: LimitedAction, key: string) => Promise<void>;
}

/** The request answers only when it has steps and every one of them carries the phone given (both in E.164). */
function phoneMatches(rows: readonly SubscriptionStep[], phone: string): boolean {
  return rows.length > 0 && rows.every((row) => row.phone === phone);
}

export class SubscriptionLookup {
  constructor(private readonly deps: SubscriptionLookupDeps) {}

  async steps(input: SubscriptionLookupInput): Promise<SubscriptionRequest> {
    // Both limits are counted before the source is read, for every request alike: the per-number one is what keeps
    // a number from being probed for its phone from many addresses, so it must count the misses too.
    await this.deps.limit('subscription', input.ip);
    await this.deps.limit('subscription-notice', input.noticeNumber);
    // An unknown number and a wrong phone take the same path to the same error: one read, one comparison.
    const answer = await this.deps.reader.read(subscriptionSteps, { notice: input.noticeNumber });
    if (!phoneMatches(answer.rows, input.phone)) throw new SubscriptionNotFoundError();
    const first = answer.rows[0]!;
    return {
      noticeNumber: first.noticeNumber,
      status: first.requestStatus,
      updatedAt: first.updatedAt,
      // The query orders the rows by CODE_ETAPE; sorted again so the order holds whatever a cache entry kept.
      steps: [...answer.rows].sort((a, b) => a.step - b.step).map((row) => ({ step: row.step, description: row.description, doneAt: row.doneAt })),
      ...staleness(answer),
    };
  }
}
