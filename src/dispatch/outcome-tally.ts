// The tally of a sent batch's per-token outcomes: its counts, the tokens to remove, and the ones still failing
// transiently — retried, or past the last attempt counted as failed and bound for the dead-letter queue.
import type { FcmOutcome } from '../adapters/fcm/fcm-outcome.js';
import type { BatchCounts } from './batch-ledger.js';
import type { DispatchBatchMessage } from './delivery-body.js';

type Token = DispatchBatchMessage['tokens'][number];

export interface OutcomeTally {
  readonly counts: BatchCounts;
  /** Tokens FCM no longer knows: deleted with the batch's record. */
  readonly remove: readonly string[];
  /** Tokens to send again on the next attempt. */
  readonly retry: ReadonlyArray<{ sessionId: string; token: string }>;
  /** The longest Retry-After among them (0: none asked). */
  readonly retryAfterMs: number;
  /** Their outcome codes, sorted and distinct. */
  readonly retryReasons: readonly string[];
  /** Tokens still failing transiently after the last attempt: counted as failed, for the dead-letter queue. */
  readonly exhausted: ReadonlyArray<{ sessionId: string; token: string }>;
  /** Their outcome codes, sorted and distinct. */
  readonly exhaustedReasons: readonly string[];
}

/** `outcomes[i]` is the outcome of `tokens[i]`; `attempt` is the batch's (0: the first send). */
export function tallyOutcomes(tokens: readonly Token[], outcomes: readonly FcmOutcome[], attempt: number, maxAttempts: number): OutcomeTally {
  let sent = 0;
  let failed = 0;
  const remove: string[] = [];
  const retry: Array<{ sessionId: string; token: string }> = [];
  let retryAfterMs = 0;
  const reasons = new Set<string>();
  const exhausted: Array<{ sessionId: string; token: string }> = [];
  const exhaustedReasons = new Set<string>();
  tokens.forEach((t, i) => {
    const o = outcomes[i]!;
    switch (o.kind) {
      case 'sent':
        sent++;
        break;
      case 'remove-token':
        remove.push(t.token);
        break;
      case 'fail':
        failed++;
        break;
      case 'retry':
        if (attempt + 1 > maxAttempts) {
          failed++;
          exhausted.push({ sessionId: t.sessionId, token: t.token });
          exhaustedReasons.add(o.code);
        } else {
          retry.push({ sessionId: t.sessionId, token: t.token });
          retryAfterMs = Math.max(retryAfterMs, o.retryAfterMs);
          reasons.add(o.code);
        }
        break;
    }
  });
  return {
    counts: { sent, failed, removed: remove.length, retried: retry.length },
    remove,
    retry,
    retryAfterMs,
    retryReasons: [...reasons].sort(),
    exhausted,
    exhaustedReasons: [...exhaustedReasons].sort(),
  };
}
