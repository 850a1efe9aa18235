// The worker's queue-consumer handler: what a delivery on a priority queue does, step by step. Never throws.
// A notification job runs the fan-out; a push batch is claimed, sent, recorded, then what it owes is published.
import { randomUUID } from 'node:crypto';
import type { Broker, Delivery, Outcome } from '../adapters/broker/broker.js';
import type { PriorityQueue } from '../domain/priority.js';
import type { Clock } from '../clock.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { batchFollowups } from './batch-followups.js';
import { countDeadLettered, publishFollowups, recordBatch, settleJob, type BatchCounts, type Followup } from './batch-ledger.js';
import { claimBatch, releaseClaim } from './batch-claims.js';
import { sendBatch, type PushSender } from './batch-send.js';
import { parseDispatchMessage, type DispatchBatchMessage, type JobDelivery } from './delivery-body.js';
import { failureDetail } from './failure-detail.js';
import { batchMessageId, fanOut, FanOutJobNotFoundError, type FanOutDeps, type FanOutOptions } from './fan-out.js';
import { jobNotification, jobQueue, jobSettingsCache } from './job-settings.js';
import { holdThroughOutages, isOutage, OutageError } from './outage-hold.js';
import { tallyOutcomes } from './outcome-tally.js';

export const DEFAULT_MAX_SEND_ATTEMPTS = 5;

export interface DispatchHandlerDeps {
  readonly db: () => Promise<PgHandle>;
  readonly broker: () => Promise<Broker>;
  /** The push pipeline (asked anew for each batch: the fcm-pool actor hands out a new one after a restart). */
  readonly pipeline: () => Promise<PushSender>;
  readonly clock: Clock;
  /** Who claims batches (node id); the holder's incarnation and a counter per delivery make each claim's name unique. */
  readonly claimOwner?: string;
  /**
   * This process's incarnation in the node registry (src/cluster/node-registry.ts), written on its claims: while
   * it is alive its claims are respected; once it is not (its heartbeat expired, it stopped), they are taken over at
   * once. Absent (tests of the handler alone): claims are leases only.
   */
  readonly holder?: string;
  /** How long a claim holds (renewed while the batch is in flight) before another copy may take it over anyway. @defaultValue 120_000 */
  readonly claimLeaseMs?: number;
  /** Retries of a token before it counts as failed. @defaultValue 5 */
  readonly maxAttempts?: number;
  readonly fanOut?: FanOutOptions;
  /** Announces new inbox entries to open WebSockets (any process); failures never touch the delivery. */
  readonly live?: FanOutDeps['live'];
  /**
   * The queues' delivery limit (BROKER_DELIVERY_LIMIT): a batch failing on its last delivery has its tokens
   * counted as failed before RabbitMQ dead-letters it. Undefined: not counted.
   */
  readonly deliveryLimit?: number;
  /** How long a delivery is held while a dependency is away before it goes back to its queue. @defaultValue 300_000 */
  readonly outageHoldMs?: number;
  /** Told each time a delivery is held for an outage (logs). */
  readonly onOutage?: (detail: string, retryInMs: number) => void;
  /** Told about each handled delivery (logs, metrics, tests). */
  readonly onResult?: (result: DispatchResult) => void;
}

export type DispatchResult =
  | { readonly kind: 'job'; readonly jobId: string; readonly outcome: Outcome; readonly detail: string }
  | {
      readonly kind: 'batch';
      readonly jobId: string;
      readonly batchId: string;
      readonly outcome: Outcome;
      readonly detail: string;
      readonly counts?: BatchCounts;
    }
  | { readonly kind: 'invalid'; readonly outcome: 'reject'; readonly detail: string }
  | { readonly kind: 'error'; readonly outcome: Outcome; readonly detail: string };

export function createDispatchHandler(deps: DispatchHandlerDeps): (delivery: Delivery) => Promise<Outcome> {
  const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_SEND_ATTEMPTS;
  // Each delivery claims under its own name, unique across processes (two given one NODE_ID must not pass for each
  // other) and across deliveries of this one: a copy redelivered to this same process (its channel dropped while the
  // first copy was still sending) is parked like any other, not taken for the same owner.
  const claimOwner = `${deps.claimOwner ?? 'worker'}:${(deps.holder ?? randomUUID()).slice(0, 8)}`;
  let handlings = 1;
  const leaseMs = deps.claimLeaseMs ?? 120_000;

  /**
   * A copy of a batch a live holder is sending (its channel dropped and RabbitMQ handed the delivery on, or the
   * holder is only slow): acked here and published again through the shortest retry tier, so it waits in RabbitMQ
   * instead of in this consumer's prefetch, where ready batches need the slot. When it comes back the batch is done
   * (dropped), still held (parked again), or its holder is gone (taken over).
   */
  const park = async (delivery: Delivery, queue: PriorityQueue, batchId: string, jobId: string, attempt: number): Promise<void> => {
    const broker = await deps.broker();
    await broker.retry(queue, delivery.body, {
      messageId: delivery.messageId ?? batchId,
      headers: { 'x-job-id': jobId },
      attempt,
      delayMs: 0,
      reason: 'claimed-by-live-holder',
    });
  };
  const publishOwed = async (db: PgHandle, batchId: string, owed: readonly Followup[]): Promise<void> => {
    if (owed.length > 0) await publishFollowups(db, await deps.broker(), batchId, owed);
  };
  const jobSettings = jobSettingsCache();
  const report = (result: DispatchResult): Outcome => {
    try {
      deps.onResult?.(result);
    } catch {
      // a listener's failure is not the delivery's
    }
    return result.outcome;
  };

  const handleJob = async (msg: JobDelivery): Promise<Outcome> => {
    try {
      const [db, broker] = await Promise.all([deps.db(), deps.broker()]);
      // Inbox entries written and push batches published (fan-out.ts).
      const r = await fanOut({ db, broker, clock: deps.clock, ...(deps.live ? { live: deps.live } : {}) }, { jobId: msg.jobId }, deps.fanOut);
      // All batches may have been sent before the fan-out marked itself done (or there were no tokens at all).
      await settleJob(db, msg.jobId, new Date(deps.clock.now()));
      return report({ kind: 'job', jobId: msg.jobId, outcome: 'ack', detail: r.superseded ? 'superseded' : `done, ${r.batchesPublished} batches published` });
    } catch (e) {
      if (e instanceof FanOutJobNotFoundError) return report({ kind: 'job', jobId: msg.jobId, outcome: 'ack', detail: 'job not found' });
      if (isOutage(e)) throw new OutageError(e);
      return report({ kind: 'job', jobId: msg.jobId, outcome: 'nack-requeue', detail: failureDetail(e) });
    }
  };

  /** `owner`: this delivery's name on the claim, the same across its outage retries (so a retry finds its own claim). */
  const handleBatch = async (msg: DispatchBatchMessage, delivery: Delivery, owner: string): Promise<Outcome> => {
    const batchId = msg.batchId ?? batchMessageId(msg.jobId, msg.batchNo);
    const attempt = Math.max(msg.attempt ?? 0, delivery.attempt);
    const result = (outcome: Outcome, detail: string, counts?: BatchCounts): Outcome =>
      report({ kind: 'batch', jobId: msg.jobId, batchId, outcome, detail, ...(counts ? { counts } : {}) });
    let db: PgHandle | undefined;
    let claimed = false;
    // Once the batch's outcome is recorded its tokens are counted: a later failure must not count them again.
    let recordedOutcome = false;
    try {
      db = await deps.db();
      const job = await jobSettings(db, msg.jobId);
      if (!job) return result('ack', 'job not found');
      const queue = jobQueue(job);
      // 1. Claim (batch-claims.ts), in the statement that sees whether the batch is done already and reads its
      //    progress: a claim whose holder is gone is taken over at once, keeping the answers it recorded.
      const claimedNow = await claimBatch(db, { batchId, jobId: msg.jobId, owner, holder: deps.holder ?? null, now: new Date(deps.clock.now()), leaseMs });
      if (claimedNow.state === 'done') {
        recordedOutcome = true;
        if (claimedNow.owed.length === 0) return result('ack', 'duplicate: batch already done');
        await publishOwed(db, batchId, claimedNow.owed);
        return result('ack', `batch already done; ${claimedNow.owed.length} message(s) it owed published`);
      }
      if (claimedNow.state === 'held') {
        recordedOutcome = true; // the holder records the batch: this copy must never count its tokens
        await park(delivery, queue, batchId, msg.jobId, attempt);
        return result('ack', `parked: ${claimedNow.by} (alive) holds the batch; back through the shortest retry tier`);
      }
      claimed = true;
      const { progress } = claimedNow;

      // 2. Send the tokens without an answer, recording answers as progress steps meanwhile (batch-send.ts).
      const outcomes = await sendBatch({
        db,
        clock: deps.clock,
        pipeline: deps.pipeline,
        batchId,
        jobId: msg.jobId,
        owner,
        leaseMs,
        notification: jobNotification(msg.jobId, queue, job),
        tokens: msg.tokens,
        answered: progress.outcomes,
      });
      const tally = tallyOutcomes(msg.tokens, outcomes, attempt, maxAttempts);
      const followups = batchFollowups({ batchId, jobId: msg.jobId, batchNo: msg.batchNo, queue, attempt }, tally);

      // 3. Record in ONE statement (batch-ledger.ts): the batch with what it still owes the broker, the claim
      //    finished, dead tokens removed, the job's counts added and the job settled. The outcome is persisted BEFORE
      //    anything that follows from it: a publish failing or a crash in between never sends the batch again.
      const { counts } = tally;
      // A dead letter on-call sent back (POST /admin/dead-letters/replay marks it x-replayed): its tokens were counted
      // as failed when it died, so this outcome replaces that count instead of adding to it, and the job settles again.
      const replay = typeof delivery.headers['x-replayed'] === 'number';
      const recorded = await recordBatch(db, {
        batchId,
        jobId: msg.jobId,
        at: new Date(deps.clock.now()),
        remove: tally.remove,
        owner,
        followups,
        ...counts,
        ...(replay ? { failed: counts.failed - msg.tokens.length, resettle: true } : {}),
      });
      claimed = false;
      recordedOutcome = true;
      // 4. Publish what it owes (the next attempt, or a redelivered copy, finds the batch done and publishes what is
      //    still owed; repeats are dropped by their deterministic ids). A concurrent copy that recorded first owes its own.
      if (recorded) await publishOwed(db, batchId, followups);
      const resumed = claimedNow.tookOverFrom ? `; taken over from ${claimedNow.tookOverFrom}, ${progress.outcomes.size} answer(s) it recorded kept` : '';
      return result('ack', recorded ? `attempt ${attempt}${resumed}` : 'duplicate: recorded concurrently', counts);
    } catch (e) {
      // Let the copy that comes back (this one, requeued) take the batch at once rather than after the lease.
      if (claimed && db) await releaseClaim(db, batchId, owner).catch(() => undefined);
      if (isOutage(e)) throw new OutageError(e);
      // The queue's last delivery of this batch: RabbitMQ dead-letters it after this nack (its tokens are kept
      // there with the reason). Count them as failed now, or the job would wait for them forever (one that dies
      // while PostgreSQL is away is settled later by the job reaper, job-reaper.ts).
      if (!recordedOutcome && db && deps.deliveryLimit !== undefined && delivery.deliveryCount >= deps.deliveryLimit) {
        const failedNow = await countDeadLettered(db, msg.jobId, msg.tokens.length, new Date(deps.clock.now())).catch(() => false);
        if (failedNow) return result('nack-requeue', `${failureDetail(e)}; last delivery: ${msg.tokens.length} token(s) counted as failed, dead-lettered by the queue`);
      }
      return result('nack-requeue', failureDetail(e));
    }
  };

  // A delivery that fails because a dependency is away or saturated (PostgreSQL starting, down or busy, the FCM pool
  // restarting, RabbitMQ gone for a publish) is held and handled again after a backoff, not returned to its queue: every
  // return counts toward the queue's delivery limit, so a worker starting before its database, or a database
  // outage, would otherwise dead-letter healthy batches within seconds. Holding also stops this consumer pulling
  // (its prefetch is in use). After outageHoldMs the delivery goes back to the queue after all.
  const hold = { clock: deps.clock, holdMs: deps.outageHoldMs ?? 300_000, onOutage: deps.onOutage };
  return async (delivery) => {
    const msg = parseDispatchMessage(delivery.body);
    // An unparseable body is rejected: RabbitMQ dead-letters it.
    if (typeof msg === 'string') return report({ kind: 'invalid', outcome: 'reject', detail: msg });
    const owner = `${claimOwner}:${handlings++}`;
    return holdThroughOutages(
      hold,
      () => (msg.kind === 'notification-job' ? handleJob(msg) : handleBatch(msg, delivery, owner)),
      (cause) => report({ kind: 'error', outcome: 'nack-requeue', detail: failureDetail(cause) }),
    );
  };
}
