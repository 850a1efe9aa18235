// The worker's queue-consumer handler: what a delivery on a priority queue does.
//   {kind: 'notification-job', jobId, ...}  (outbox relay)  → fanOut: inbox entries + push batches published, then
//     the job is settled if every batch was already done.
//   {kind: 'push-batch', jobId, batchNo, tokens, ...}  (fan-out, or a retry of this handler)  →
//     1. claim (batch_claims, 0007/0013: the holder's incarnation and a lease renewed while the batch is in flight) in
//        the same statement that sees whether the batch is done already (sent_batches, 0006) and reads its progress:
//        a claim whose holder is gone (node registry) is taken over at once, keeping the answers recorded so far; a
//        copy delivered while a live holder has the batch is parked (acked, back through the shortest retry tier);
//     2. send through the push pipeline (scheduler + FCM pool: priority, rate limit, 429 pauses) the tokens without an
//        answer, recording answers as progress steps while the rest is in flight (batch-progress.ts);
//     3. record in ONE statement: the batch in sent_batches with what it still owes the broker (0010: `followups`),
//        the claim marked finished, dead tokens removed, the job's counts added and the job settled (done, or failed
//        when nothing could be delivered, once its fan-out finished and every published token has a final outcome);
//     4. then publish what it owes: retryable tokens as a smaller push-batch through the retry queues (attempt + 1,
//        deterministic id `${batchId}:r${attempt}`, a growing delay); past maxAttempts they count as failed and go
//        to the dead-letter queue as one batch (`${batchId}:dead`, reason and attempts); then clear `followups`.
//        The outcome is persisted BEFORE anything that follows from it: a publish failing (RabbitMQ restarting, a
//        memory alarm) or a crash in between never sends the batch again — the next attempt, or a redelivered copy,
//        finds the batch done and publishes what is still owed (repeats are dropped by their deterministic ids).
// What is recorded, and how a job settles, is the batch ledger's (batch-ledger.ts), shared with the job reaper.
// A dependency that is away or saturated (PostgreSQL down or busy, the pool restarting) holds the delivery and
// retries it with a backoff: returning it would spend the queue's delivery limit. Unparseable bodies are rejected
// (dead-lettered); any other failure is nack-requeue, and on the queue's last delivery the batch's tokens are counted
// as failed before RabbitMQ dead-letters it (one that dies while PostgreSQL is away is settled later by the job
// reaper, job-reaper.ts). Never throws.
import { randomUUID } from 'node:crypto';
import type { Broker, Delivery, Outcome } from '../adapters/broker/broker.js';
import { PRIORITY_QUEUES, type PriorityQueue } from '../domain/priority.js';
import type { Clock } from '../clock.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { isPostgresBusy, isPostgresOutage } from '../adapters/postgres/pg-errors.js';
import { ActorNotFoundError, ActorRestartingError, ActorStoppedError, QueryTimeoutError } from '../errors/actor-errors.js';
import { AppError, ServiceUnavailableError } from '../errors/app-error.js';
import { PipelineClosedError } from './push-pipeline.js';
import { buildFcmMessage, type FcmMessage, type FcmNotification } from '../adapters/fcm/fcm-message.js';
import type { FcmOutcome } from '../adapters/fcm/fcm-outcome.js';
import type { OnAnswers } from '../adapters/fcm/answers.js';
import { countDeadLettered, publishFollowups, recordBatch, settleJob, type BatchCounts, type Followup } from './batch-ledger.js';
import { claimBatch, keepClaim, releaseClaim } from './batch-claims.js';
import { ProgressWriter } from './batch-progress.js';
import { batchMessageId, fanOut, FanOutJobNotFoundError, type FanOutDeps, type FanOutOptions, type PushBatchMessage } from './fan-out.js';

export const DEFAULT_MAX_SEND_ATTEMPTS = 5;

/** A push batch as this handler reads it: fan-out's message, or a retry batch (which names its own id and attempt). */
export interface DispatchBatchMessage extends PushBatchMessage {
  /** The batch's dedupe id; absent on fan-out batches (then `${jobId}:${batchNo}`). */
  readonly batchId?: string;
  /** The retry attempt this batch is on (0 / absent: the first send). */
  readonly attempt?: number;
}

export interface JobMessage {
  readonly kind: 'notification-job';
  readonly jobId: string;
}

export type DispatchMessage = JobMessage | DispatchBatchMessage;

export interface DispatchHandlerDeps {
  readonly db: () => Promise<PgHandle>;
  readonly broker: () => Promise<Broker>;
  /** The push pipeline (asked anew for each batch: the fcm-pool actor hands out a new one after a restart). */
  readonly pipeline: () => Promise<{ send(queue: PriorityQueue, messages: readonly FcmMessage[], onAnswers?: OnAnswers): Promise<FcmOutcome[]> }>;
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

/** The body, or a reason it is not one this handler knows. */
export function parseDispatchMessage(body: Buffer): DispatchMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'body is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'body is not an object';
  const v = value as Record<string, unknown>;
  if (typeof v['jobId'] !== 'string' || v['jobId'].length === 0) return 'jobId missing';
  const jobId = v['jobId'];
  if (v['kind'] === 'notification-job') return { kind: 'notification-job', jobId };
  if (v['kind'] !== 'push-batch') return `unknown kind ${JSON.stringify(v['kind'])}`;
  const batchNo = v['batchNo'];
  if (typeof batchNo !== 'number' || !Number.isInteger(batchNo) || batchNo < 0) return 'batchNo missing';
  const tokens = v['tokens'];
  if (!Array.isArray(tokens)) return 'tokens missing';
  for (const t of tokens) {
    if (typeof t !== 'object' || t === null) return 'bad token entry';
    const e = t as Record<string, unknown>;
    if (typeof e['sessionId'] !== 'string' || typeof e['token'] !== 'string') return 'bad token entry';
  }
  const batchId = v['batchId'];
  if (batchId !== undefined && (typeof batchId !== 'string' || batchId.length === 0)) return 'bad batchId';
  const attempt = v['attempt'];
  if (attempt !== undefined && (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 0)) return 'bad attempt';
  return {
    kind: 'push-batch',
    jobId,
    batchNo,
    tokens: (tokens as Array<{ sessionId: string; token: string }>).map((t) => ({ sessionId: t.sessionId, token: t.token })),
    ...(batchId !== undefined ? { batchId } : {}),
    ...(attempt !== undefined ? { attempt } : {}),
  };
}

interface JobSettings {
  queue: PriorityQueue;
  title: string;
  body: string;
  data: Record<string, unknown> | null;
  type: string;
  ttl_seconds: number;
  collapse_key: string | null;
}

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** First retry delay of a token that failed transiently without a Retry-After; doubled at each attempt. */
const RETRY_BASE_MS = 1_000;

/** Jobs whose settings a handler keeps (a few jobs are in flight at once; each is read again after eviction). */
const JOB_CACHE_SIZE = 256;

/** A dependency is away (not the message's fault): the delivery is held and handled again. */
class OutageError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(override readonly cause: unknown) {
    super(describe(cause));
  }
}

function isOutage(e: unknown): boolean {
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

const sleep = (clock: Clock, ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

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
  // A job's content never changes once accepted: its settings are read once per job, not once per batch.
  const jobs = new Map<string, JobSettings>();
  const jobSettings = async (db: PgHandle, jobId: string): Promise<JobSettings | undefined> => {
    const known = jobs.get(jobId);
    if (known) return known;
    const { rows } = await db.query<JobSettings>(
      `SELECT j.queue, j.title, j.body, j.data, j.type, t.ttl_seconds, t.collapse_key
         FROM notification_jobs j JOIN notification_types t ON t.code = j.type WHERE j.id = $1`,
      [jobId],
    );
    const job = rows[0];
    if (!job) return undefined;
    if (jobs.size >= JOB_CACHE_SIZE) jobs.delete(jobs.keys().next().value!);
    jobs.set(jobId, job);
    return job;
  };
  const report = (result: DispatchResult): Outcome => {
    try {
      deps.onResult?.(result);
    } catch {
      // a listener's failure is not the delivery's
    }
    return result.outcome;
  };

  const handleJob = async (msg: JobMessage): Promise<Outcome> => {
    try {
      const [db, broker] = await Promise.all([deps.db(), deps.broker()]);
      const r = await fanOut({ db, broker, clock: deps.clock, ...(deps.live ? { live: deps.live } : {}) }, { jobId: msg.jobId }, deps.fanOut);
      // All batches may have been sent before the fan-out marked itself done (or there were no tokens at all).
      await settleJob(db, msg.jobId, new Date(deps.clock.now()));
      return report({ kind: 'job', jobId: msg.jobId, outcome: 'ack', detail: r.superseded ? 'superseded' : `done, ${r.batchesPublished} batches published` });
    } catch (e) {
      if (e instanceof FanOutJobNotFoundError) return report({ kind: 'job', jobId: msg.jobId, outcome: 'ack', detail: 'job not found' });
      if (isOutage(e)) throw new OutageError(e);
      return report({ kind: 'job', jobId: msg.jobId, outcome: 'nack-requeue', detail: describe(e) });
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
      const queue: PriorityQueue = (PRIORITY_QUEUES as readonly string[]).includes(job.queue) ? job.queue : 'normal';
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
      const notification: FcmNotification = {
        jobId: msg.jobId,
        queue,
        type: { code: job.type, ttlSeconds: job.ttl_seconds, collapseKey: job.collapse_key },
        title: job.title,
        body: job.body,
        data: Object.fromEntries(Object.entries(job.data ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
      };

      // Tokens answered before a takeover keep their answer and are not sent again. Messages that cannot be built
      // (an empty token, a type without TTL) fail for good without a send.
      const nowMs = deps.clock.now();
      const outcomes: FcmOutcome[] = new Array<FcmOutcome>(msg.tokens.length);
      const toSend: FcmMessage[] = [];
      const sentIdx: number[] = [];
      msg.tokens.forEach((t, i) => {
        const answered = progress.outcomes.get(i);
        if (answered) {
          outcomes[i] = answered;
          return;
        }
        try {
          toSend.push(buildFcmMessage(t.token, notification, nowMs));
          sentIdx.push(i);
        } catch (e) {
          outcomes[i] = { kind: 'fail', code: 'INVALID_PAYLOAD', alert: true, detail: describe(e) };
        }
      });
      if (toSend.length > 0) {
        const pipeline = await deps.pipeline();
        // A batch may wait in the scheduler (behind urgent work, or a 429 pause) longer than the lease: keep the
        // claim alive meanwhile, so no other copy takes over a batch that is only waiting its turn.
        const renew = keepClaim(db, deps.clock, batchId, owner, leaseMs);
        // Each chunk of answers is recorded as a step while the rest is in flight (batch-progress.ts).
        const steps = new ProgressWriter(db, { batchId, jobId: msg.jobId, owner }, (k) => sentIdx[k]!);
        let answers: FcmOutcome[];
        try {
          answers = await pipeline.send(queue, toSend, (chunk) => steps.add(chunk));
        } finally {
          renew.stop();
          steps.stop();
        }
        if (answers.length !== toSend.length) throw new Error(`sender answered ${answers.length} outcomes for ${toSend.length} messages`);
        sentIdx.forEach((i, k) => (outcomes[i] = answers[k]!));
      }

      let sent = 0;
      let failed = 0;
      const remove: string[] = [];
      const retry: Array<{ sessionId: string; token: string }> = [];
      let retryAfterMs = 0;
      const reasons = new Set<string>();
      // Tokens still failing transiently after maxAttempts: they count as failed and go to the dead-letter queue
      // (as one batch with the reason and attempt count), where on-call can inspect and replay them.
      const exhausted: Array<{ sessionId: string; token: string }> = [];
      const exhaustedReasons = new Set<string>();
      msg.tokens.forEach((t, i) => {
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

      const followups: Followup[] = [];
      if (retry.length > 0) {
        const next = attempt + 1;
        const retryId = `${batchId}:r${next}`;
        followups.push({
          kind: 'retry',
          queue,
          body: { kind: 'push-batch', jobId: msg.jobId, batchNo: msg.batchNo, tokens: retry, batchId: retryId, attempt: next },
          options: {
            messageId: retryId,
            headers: { 'x-job-id': msg.jobId },
            attempt: next,
            // Growing backoff (1 s, 2 s, 4 s … before the tiers round it up) unless FCM asked for longer.
            delayMs: Math.max(retryAfterMs, RETRY_BASE_MS * 2 ** (next - 1)),
            reason: [...reasons].sort().join(','),
          },
        });
      }
      if (exhausted.length > 0) {
        const deadId = `${batchId}:dead`;
        followups.push({
          kind: 'dead',
          queue,
          body: { kind: 'push-batch', jobId: msg.jobId, batchNo: msg.batchNo, tokens: exhausted, batchId: deadId, attempt },
          reason: `max-attempts: ${[...exhaustedReasons].sort().join(',')}`,
          attempts: attempt + 1,
          options: { messageId: deadId, headers: { 'x-job-id': msg.jobId } },
        });
      }

      const counts: BatchCounts = { sent, failed, removed: remove.length, retried: retry.length };
      const recorded = await recordBatch(db, { batchId, jobId: msg.jobId, at: new Date(deps.clock.now()), remove, owner, followups, ...counts });
      claimed = false;
      recordedOutcome = true;
      // A concurrent copy that recorded first owes (and publishes) its own follow-ups.
      if (recorded) await publishOwed(db, batchId, followups);
      const resumed = claimedNow.tookOverFrom ? `; taken over from ${claimedNow.tookOverFrom}, ${progress.outcomes.size} answer(s) it recorded kept` : '';
      return result('ack', recorded ? `attempt ${attempt}${resumed}` : 'duplicate: recorded concurrently', counts);
    } catch (e) {
      // Let the copy that comes back (this one, requeued) take the batch at once rather than after the lease.
      if (claimed && db) await releaseClaim(db, batchId, owner).catch(() => undefined);
      if (isOutage(e)) throw new OutageError(e);
      // The queue's last delivery of this batch: RabbitMQ dead-letters it after this nack (its tokens are kept
      // there with the reason). Count them as failed now, or the job would wait for them forever.
      if (!recordedOutcome && db && deps.deliveryLimit !== undefined && delivery.deliveryCount >= deps.deliveryLimit) {
        const failedNow = await countDeadLettered(db, msg.jobId, msg.tokens.length, new Date(deps.clock.now())).catch(() => false);
        if (failedNow) return result('nack-requeue', `${describe(e)}; last delivery: ${msg.tokens.length} token(s) counted as failed, dead-lettered by the queue`);
      }
      return result('nack-requeue', describe(e));
    }
  };

  // A delivery that fails because a dependency is away or saturated (PostgreSQL starting, down or busy, the FCM pool
  // restarting, RabbitMQ gone for a publish) is held and handled again after a backoff, not returned to its queue: every
  // return counts toward the queue's delivery limit, so a worker starting before its database, or a database
  // outage, would otherwise dead-letter healthy batches within seconds. Holding also stops this consumer pulling
  // (its prefetch is in use). After outageHoldMs the delivery goes back to the queue after all.
  const holdMs = deps.outageHoldMs ?? 300_000;
  return async (delivery) => {
    const msg = parseDispatchMessage(delivery.body);
    if (typeof msg === 'string') return report({ kind: 'invalid', outcome: 'reject', detail: msg });
    const until = deps.clock.now() + holdMs;
    const owner = `${claimOwner}:${handlings++}`;
    for (let wait = 250; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        return msg.kind === 'notification-job' ? await handleJob(msg) : await handleBatch(msg, delivery, owner);
      } catch (e) {
        const cause = e instanceof OutageError ? e.cause : e;
        if (!(e instanceof OutageError) || deps.clock.now() + wait > until) {
          return report({ kind: 'error', outcome: 'nack-requeue', detail: describe(cause) });
        }
        deps.onOutage?.(describe(cause), wait);
        await sleep(deps.clock, wait);
      }
    }
  };
}
