// The job reaper: no accepted job stays unsettled, even when its message died while PostgreSQL was away and
// nobody could record it (RabbitMQ dead-letters a message after its last delivery).
import type { Broker } from '../adapters/broker/broker.js';
import type { PriorityQueue } from '../domain/priority.js';
import type { Clock } from '../clock.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { liveClaim } from './batch-claims.js';
import { publishFollowups, settleJob, settledState, type Followup } from './batch-ledger.js';
import type { JobMessage } from '../domain/job-message.js';

/** Resumes of one job's fan-out before the reaper gives up on it (marks it failed). */
export const MAX_RESUMES = 3;

/** Jobs looked at per pass (the oldest first); the next pass takes the rest. */
const REAP_LIMIT = 100;

export interface JobReaperDeps {
  readonly db: () => Promise<PgHandle>;
  readonly broker: () => Promise<Broker>;
  readonly clock: Clock;
}

export interface ReapResult {
  /** Jobs whose fan-out was resumed (their job message published again). */
  readonly resumed: number;
  /** Jobs whose recorded batches' owed retry and dead-letter messages were published. */
  readonly completed: number;
  /** Jobs marked failed because their fan-out could not be resumed. */
  readonly abandoned: number;
  /** Jobs settled by counting the tokens of their lost batches as failed. */
  readonly settled: number;
  /** Tokens counted as failed. */
  readonly lostTokens: number;
}

interface StalledJob {
  id: string;
  type: string;
  queue: PriorityQueue;
  resumed_count: number;
  fanout_done: boolean;
}

// Last progress of a job: its row (pages, batches recorded, state) or its checkpoint (each batch published).
const LAST_PROGRESS = 'GREATEST(j.updated_at, c.updated_at)';

/**
 * One pass: finds the jobs that made no progress (checkpoint, recorded batches) for `stallMs` and resumes or settles
 * each:
 * - fan-out not finished (the job message died): the job message is published again and the fan-out resumes from
 *   its checkpoint (published batches keep their ids: consumers drop repeats); after MAX_RESUMES resumes without
 *   finishing, the job is failed with a reason;
 * - fan-out finished and recorded batches still owe the broker their retry or dead-letter messages (their delivery
 *   died after the outcome was recorded): they are published now, and the job waits for its retries as usual;
 * - fan-out finished, tokens without an outcome and no live claim on any of its batches (the batches died): those
 *   tokens count as failed, with a reason, and the job settles.
 * Jobs whose outbox row is unpublished are the outbox relay's. Safe with several workers: each change is one
 * conditional statement on the job row, and a job message published twice resumes the same checkpoint.
 */
export async function reapStalledJobs(deps: JobReaperDeps, stallMs: number): Promise<ReapResult> {
  const db = await deps.db();
  const now = new Date(deps.clock.now());
  const stalledBefore = new Date(now.getTime() - stallMs);
  const { rows } = await db.query<StalledJob>(
    `SELECT j.id, j.type, j.queue, j.resumed_count, c.done_at IS NOT NULL AS fanout_done
       FROM notification_jobs j LEFT JOIN fanout_checkpoints c ON c.job_id = j.id
      -- j.updated_at < $1 is implied by the next condition; said alone, it bounds the index of unsettled jobs.
      WHERE j.state IN ('accepted', 'fanning_out', 'sending') AND j.updated_at < $1 AND ${LAST_PROGRESS} < $1
        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = j.id AND o.published_at IS NULL)
        AND NOT EXISTS (SELECT 1 FROM batch_claims b WHERE b.job_id = j.id AND ${liveClaim('b', '$2')})
      ORDER BY j.updated_at
      LIMIT ${REAP_LIMIT}`,
    [stalledBefore, now],
  );
  let resumed = 0;
  let completed = 0;
  let abandoned = 0;
  let settled = 0;
  let lostTokens = 0;
  for (const job of rows) {
    if (job.fanout_done && (await completeFollowups(db, deps.broker, job.id, now))) {
      completed++;
    } else if (job.fanout_done) {
      const lost = await countLostTokens(db, job.id, now, stalledBefore);
      if (lost > 0) {
        settled++;
        lostTokens += lost;
      } else {
        await settleJob(db, job.id, now); // every token has its outcome: only the settle itself was missed
      }
    } else if (job.resumed_count >= MAX_RESUMES) {
      if (await abandon(db, job, now, stalledBefore)) abandoned++;
    } else if (await resume(db, await deps.broker(), job, now, stalledBefore)) {
      resumed++;
    }
  }
  return { resumed, completed, abandoned, settled, lostTokens };
}

/**
 * Publishes what the job's recorded batches still owe the broker and marks the job as progressed (its retries come
 * back through the queues); false when they owe nothing.
 */
async function completeFollowups(db: PgHandle, broker: () => Promise<Broker>, jobId: string, now: Date): Promise<boolean> {
  const { rows } = await db.query<{ batch_id: string; followups: Followup[] }>(
    `SELECT batch_id, followups FROM sent_batches WHERE job_id = $1 AND followups IS NOT NULL`,
    [jobId],
  );
  if (rows.length === 0) return false;
  const b = await broker();
  for (const r of rows) await publishFollowups(db, b, r.batch_id, r.followups);
  await db.query(`UPDATE notification_jobs SET updated_at = $2 WHERE id = $1`, [jobId, now]);
  return true;
}

/** The tokens of a finished fan-out that have no outcome count as failed and the job settles; how many (0: none). */
async function countLostTokens(db: PgHandle, jobId: string, now: Date, stalledBefore: Date): Promise<number> {
  const { rows } = await db.query<{ lost: number }>(
    `WITH stalled AS (
       SELECT j.id, c.token_count - (j.sent_count + j.failed_count + j.tokens_removed_count) AS lost
         FROM notification_jobs j JOIN fanout_checkpoints c ON c.job_id = j.id
        WHERE j.id = $1 AND j.state IN ('fanning_out', 'sending') AND c.done_at IS NOT NULL AND ${LAST_PROGRESS} < $3
          AND j.sent_count + j.failed_count + j.tokens_removed_count < c.token_count
        FOR UPDATE OF j
     )
     UPDATE notification_jobs j
        SET failed_count = j.failed_count + s.lost, updated_at = $2,
            state = ${settledState('j.sent_count', '(j.failed_count + s.lost)')},
            failure_reason = s.lost || ' token(s) never came back from their queue (dead-lettered while they could not be recorded): counted as failed'
       FROM stalled s
      WHERE j.id = s.id
     RETURNING s.lost`,
    [jobId, now, stalledBefore],
  );
  return rows[0]?.lost ?? 0;
}

/** Publishes the job message again (the fan-out resumes from its checkpoint); false when the job progressed meanwhile. */
async function resume(db: PgHandle, broker: Broker, job: StalledJob, now: Date, stalledBefore: Date): Promise<boolean> {
  const message: JobMessage = { kind: 'notification-job', jobId: job.id, type: job.type, queue: job.queue };
  const attempt = job.resumed_count + 1;
  await broker.publish(job.queue, Buffer.from(JSON.stringify(message)), { messageId: `${job.id}:resume:${attempt}`, headers: { 'x-job-id': job.id } });
  const { rowCount } = await db.query(
    `UPDATE notification_jobs j SET resumed_count = $2, updated_at = $3
       FROM (SELECT 1) AS one LEFT JOIN fanout_checkpoints c ON c.job_id = $1
      WHERE j.id = $1 AND j.resumed_count = $2 - 1 AND ${LAST_PROGRESS} < $4`,
    [job.id, attempt, now, stalledBefore],
  );
  return rowCount === 1;
}

/** Marks a job whose fan-out did not finish after MAX_RESUMES resumes as failed, with the reason. */
async function abandon(db: PgHandle, job: StalledJob, now: Date, stalledBefore: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE notification_jobs j SET state = 'failed', updated_at = $2,
            failure_reason = 'fan-out made no progress after ' || j.resumed_count || ' resumes'
       FROM (SELECT 1) AS one LEFT JOIN fanout_checkpoints c ON c.job_id = $1
      WHERE j.id = $1 AND j.state IN ('accepted', 'fanning_out') AND ${LAST_PROGRESS} < $3`,
    [job.id, now, stalledBefore],
  );
  return rowCount === 1;
}
