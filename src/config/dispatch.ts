// The worker's dispatch tuning: scheduler slots, the FCM quota, batch claims and progress, outages, the job reaper, weights.
import { z } from 'zod';
import { int } from './env-fields.js';

export const dispatchEnv = z.object({
  /** Unacked deliveries a worker holds per queue: `urgent=8,high_priority=8,normal=4,low_priority=2` (any subset). */
  CONSUMER_PREFETCH: z.string().optional(),
  FCM_BATCHES_IN_FLIGHT: int(4, 2, 256),
  FCM_URGENT_RESERVED: int(1, 1, 255),
  FCM_RATE_PER_MINUTE: int(600_000, 1),
  FCM_WORKER_COUNT: int(1, 1, 1_000),
  FCM_MAX_SEND_ATTEMPTS: int(5, 1, 100),
  /** How long a batch claim holds before another copy may take the batch over (a worker that died). */
  DISPATCH_CLAIM_LEASE_MS: int(60_000, 100, 3_600_000),
  /**
   * Answers inside a batch recorded per progress step (a takeover sends only the tokens without one; the default is
   * FCM_SENDS_PER_THREAD's, the sender's in-flight window); 0: no
   * progress recorded while a batch is in flight (a takeover sends the whole batch again).
   */
  DISPATCH_PROGRESS_STEP: int(200, 0, 500),
  /** Answers wait at most this long before they are recorded as a step, however few. */
  DISPATCH_PROGRESS_FLUSH_MS: int(200, 10, 60_000),
  /** How long a delivery is held while a dependency is away (or busy) before it goes back to its queue. */
  DISPATCH_OUTAGE_HOLD_MS: int(300_000, 0, 3_600_000),
  /** A job with no progress for this long is resumed or settled by the worker's job reaper. */
  DISPATCH_STALL_MS: int(1_800_000, 1_000, 7 * 24 * 3_600_000),
  /** Time between two passes of the job reaper. */
  DISPATCH_REAPER_INTERVAL_MS: int(60_000, 100, 3_600_000),
  /** sent_batches and batch_claims rows of jobs finished longer ago than this many days are purged. */
  DISPATCH_PURGE_AFTER_DAYS: int(30, 1, 3_650),
  /** Shares of high_priority, normal and low_priority: `6,3,1`. */
  DISPATCH_WEIGHTS: z
    .string()
    .default('6,3,1')
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .refine((a) => a.length === 3 && a.every((n) => Number.isFinite(n) && n > 0), { message: 'must be three positive numbers: high_priority,normal,low_priority' }),
  /** Low-priority batches above this many tokens are split into chunks of this size. */
  DISPATCH_LOW_SPLIT: int(100, 1, 500),
});

/** The dispatch settings but the per-queue prefetch and FCM (src/config.ts's DispatchConfig adds them). */
export interface DispatchTuning {
  /** Batches sent at once (the scheduler's slots, and the pool's whole queue). */
  readonly batchesInFlight: number;
  /** Slots only urgent may use. */
  readonly urgentReserved: number;
  /** The FCM project's quota shared by all workers, and how many workers share it (the fallback share). */
  readonly ratePerMinute: number;
  readonly workerCount: number;
  readonly maxSendAttempts: number;
  readonly claimLeaseMs: number;
  /** In-batch progress: answers per recorded step, and the longest an answer waits to be recorded. */
  readonly progress: { readonly step: number; readonly flushMs: number };
  /** How long a delivery is held while a dependency is away before it goes back to its queue. */
  readonly outageHoldMs: number;
  /** The job reaper: no progress for stallMs and a job is resumed or settled; a pass every intervalMs; the purge. */
  readonly reaper: { readonly stallMs: number; readonly intervalMs: number; readonly purgeAfterDays: number };
  readonly weights: Readonly<Record<'high_priority' | 'normal' | 'low_priority', number>>;
  readonly lowSplit: number;
}

export function dispatchTuning(e: z.infer<typeof dispatchEnv>): DispatchTuning {
  return {
    batchesInFlight: e.FCM_BATCHES_IN_FLIGHT,
    urgentReserved: e.FCM_URGENT_RESERVED,
    ratePerMinute: e.FCM_RATE_PER_MINUTE,
    workerCount: e.FCM_WORKER_COUNT,
    maxSendAttempts: e.FCM_MAX_SEND_ATTEMPTS,
    claimLeaseMs: e.DISPATCH_CLAIM_LEASE_MS,
    progress: { step: e.DISPATCH_PROGRESS_STEP, flushMs: e.DISPATCH_PROGRESS_FLUSH_MS },
    outageHoldMs: e.DISPATCH_OUTAGE_HOLD_MS,
    reaper: { stallMs: e.DISPATCH_STALL_MS, intervalMs: e.DISPATCH_REAPER_INTERVAL_MS, purgeAfterDays: e.DISPATCH_PURGE_AFTER_DAYS },
    weights: { high_priority: e.DISPATCH_WEIGHTS[0]!, normal: e.DISPATCH_WEIGHTS[1]!, low_priority: e.DISPATCH_WEIGHTS[2]! },
    lowSplit: e.DISPATCH_LOW_SPLIT,
  };
}

export function dispatchProblems(raw: NodeJS.ProcessEnv): string[] {
  const inFlight = Number(raw.FCM_BATCHES_IN_FLIGHT ?? 4);
  const reserved = Number(raw.FCM_URGENT_RESERVED ?? 1);
  return Number.isInteger(inFlight) && Number.isInteger(reserved) && reserved >= inFlight ? ['FCM_URGENT_RESERVED: must be below FCM_BATCHES_IN_FLIGHT'] : [];
}
