// What a sent batch owes the broker once recorded: its retryable tokens as a smaller push-batch through the retry
// queues, and its exhausted tokens as one batch for the dead-letter queue (published by the ledger, batch-ledger.ts).
import type { PriorityQueue } from '../domain/priority.js';
import type { Followup } from './batch-ledger.js';
import type { OutcomeTally } from './outcome-tally.js';

/** First retry delay of a token that failed transiently without a Retry-After; doubled at each attempt. */
const RETRY_BASE_MS = 1_000;

export interface SentBatch {
  readonly batchId: string;
  readonly jobId: string;
  readonly batchNo: number;
  readonly queue: PriorityQueue;
  /** The attempt just sent (0: the first send). */
  readonly attempt: number;
}

/** Deterministic ids (`${batchId}:r${attempt}`, `${batchId}:dead`), so a repeated publish is dropped as a duplicate. */
export function batchFollowups(b: SentBatch, tally: OutcomeTally): Followup[] {
  const followups: Followup[] = [];
  if (tally.retry.length > 0) {
    const next = b.attempt + 1;
    const retryId = `${b.batchId}:r${next}`;
    followups.push({
      kind: 'retry',
      queue: b.queue,
      body: { kind: 'push-batch', jobId: b.jobId, batchNo: b.batchNo, tokens: tally.retry, batchId: retryId, attempt: next },
      options: {
        messageId: retryId,
        headers: { 'x-job-id': b.jobId },
        attempt: next,
        // Growing backoff (1 s, 2 s, 4 s … before the tiers round it up) unless FCM asked for longer.
        delayMs: Math.max(tally.retryAfterMs, RETRY_BASE_MS * 2 ** (next - 1)),
        reason: tally.retryReasons.join(','),
      },
    });
  }
  if (tally.exhausted.length > 0) {
    const deadId = `${b.batchId}:dead`;
    // On-call can inspect and replay them there: one batch with the reason and attempt count.
    followups.push({
      kind: 'dead',
      queue: b.queue,
      body: { kind: 'push-batch', jobId: b.jobId, batchNo: b.batchNo, tokens: tally.exhausted, batchId: deadId, attempt: b.attempt },
      reason: `max-attempts: ${tally.exhaustedReasons.join(',')}`,
      attempts: b.attempt + 1,
      options: { messageId: deadId, headers: { 'x-job-id': b.jobId } },
    });
  }
  return followups;
}
