// Sending a claimed batch: its tokens without a recorded answer go through the push pipeline (scheduler + FCM pool:
// priority, rate limit, 429 pauses) while the claim is kept alive and answers are recorded as progress steps.
import type { PriorityQueue } from '../domain/priority.js';
import type { OnAnswers } from '../adapters/fcm/answers.js';
import { buildFcmMessage, type FcmMessage, type FcmNotification } from '../adapters/fcm/fcm-message.js';
import type { FcmOutcome } from '../adapters/fcm/fcm-outcome.js';
import type { Clock } from '../clock.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { keepClaim } from './batch-claims.js';
import { ProgressWriter } from './batch-progress.js';
import type { DispatchBatchMessage } from './delivery-body.js';
import { failureDetail } from './failure-detail.js';

/** The push pipeline as a batch sees it. */
export interface PushSender {
  send(queue: PriorityQueue, messages: readonly FcmMessage[], onAnswers?: OnAnswers): Promise<FcmOutcome[]>;
}

export interface BatchSend {
  readonly db: PgHandle;
  readonly clock: Clock;
  /** Asked only when something is left to send. */
  readonly pipeline: () => Promise<PushSender>;
  readonly batchId: string;
  readonly jobId: string;
  /** The claim's owner, whose lease is renewed meanwhile. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly notification: FcmNotification;
  readonly tokens: DispatchBatchMessage['tokens'];
  /** Answers recorded before a takeover, by token position: kept, not sent again. */
  readonly answered: ReadonlyMap<number, FcmOutcome>;
}

/** One outcome per token, in the batch's order. */
export async function sendBatch(b: BatchSend): Promise<FcmOutcome[]> {
  // Messages that cannot be built (an empty token, a type without TTL) fail for good without a send.
  const nowMs = b.clock.now();
  const outcomes: FcmOutcome[] = new Array<FcmOutcome>(b.tokens.length);
  const toSend: FcmMessage[] = [];
  const sentIdx: number[] = [];
  b.tokens.forEach((t, i) => {
    const answered = b.answered.get(i);
    if (answered) {
      outcomes[i] = answered;
      return;
    }
    try {
      toSend.push(buildFcmMessage(t.token, b.notification, nowMs));
      sentIdx.push(i);
    } catch (e) {
      outcomes[i] = { kind: 'fail', code: 'INVALID_PAYLOAD', alert: true, detail: failureDetail(e) };
    }
  });
  if (toSend.length === 0) return outcomes;

  const pipeline = await b.pipeline();
  // A batch may wait in the scheduler (behind urgent work, or a 429 pause) longer than the lease: keep the
  // claim alive meanwhile, so no other copy takes over a batch that is only waiting its turn.
  const renew = keepClaim(b.db, b.clock, b.batchId, b.owner, b.leaseMs);
  // Each chunk of answers is recorded as a step while the rest is in flight (batch-progress.ts).
  const steps = new ProgressWriter(b.db, { batchId: b.batchId, jobId: b.jobId, owner: b.owner }, (k) => sentIdx[k]!);
  let answers: FcmOutcome[];
  try {
    answers = await pipeline.send(b.notification.queue, toSend, (chunk) => steps.add(chunk));
  } finally {
    renew.stop();
    steps.stop();
  }
  if (answers.length !== toSend.length) throw new Error(`sender answered ${answers.length} outcomes for ${toSend.length} messages`);
  sentIdx.forEach((i, k) => (outcomes[i] = answers[k]!));
  return outcomes;
}
