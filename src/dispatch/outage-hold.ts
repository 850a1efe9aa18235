// Holding a delivery while a dependency is away or saturated: what counts as an outage, and the tries until it ends.
import { isPostgresBusy, isPostgresOutage } from '../adapters/postgres/pg-errors.js';
import { backoffDelay, type BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import { ActorNotFoundError, ActorRestartingError, ActorStoppedError, QueryTimeoutError } from '../errors/actor-errors.js';
import { AppError, ServiceUnavailableError } from '../errors/app-error.js';
import { failureDetail } from './failure-detail.js';
import { PipelineClosedError } from './push-pipeline.js';

/** A dependency is away (not the message's fault): the delivery is held and handled again. */
export class OutageError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(override readonly cause: unknown) {
    super(failureDetail(cause));
  }
}

export function isOutage(e: unknown): boolean {
  return (
    e instanceof ServiceUnavailableError ||
    e instanceof ActorRestartingError ||
    e instanceof ActorStoppedError ||
    e instanceof ActorNotFoundError ||
    e instanceof QueryTimeoutError ||
    e instanceof PipelineClosedError ||
    isPostgresOutage(e) ||
    // Load, not the message's fault: a full pool or a slow query would otherwise spend the delivery limit.
    isPostgresBusy(e)
  );
}

/** Waits between tries while held: 250 ms doubling up to 10 s; no jitter, so a test's clock knows each wait. */
export const OUTAGE_BACKOFF: BackoffPolicy = { minMs: 250, maxMs: 10_000, factor: 2, jitter: 0, resetAfterMs: 0 };

export interface OutageHold {
  readonly clock: Clock;
  /** How long a delivery is held in all before it goes back to its queue. */
  readonly holdMs: number;
  /** Told each time a delivery is held (logs). */
  readonly onOutage?: (detail: string, retryInMs: number) => void;
}

const sleep = (clock: Clock, ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

/**
 * Runs `attempt` again after each OutageError, with OUTAGE_BACKOFF between tries, until it settles; past holdMs, or
 * on any other error, answers `giveUp(cause)`.
 */
export async function holdThroughOutages<T>(hold: OutageHold, attempt: () => Promise<T>, giveUp: (cause: unknown) => T): Promise<T> {
  const until = hold.clock.now() + hold.holdMs;
  for (let tries = 0; ; tries++) {
    const wait = backoffDelay(OUTAGE_BACKOFF, tries, 0);
    try {
      return await attempt();
    } catch (e) {
      const cause = e instanceof OutageError ? e.cause : e;
      if (!(e instanceof OutageError) || hold.clock.now() + wait > until) return giveUp(cause);
      hold.onOutage?.(failureDetail(cause), wait);
      await sleep(hold.clock, wait);
    }
  }
}
