// The batch ledger: what PostgreSQL records of a job's batches and how a job settles, shared by the queue-consumer
// handler (dispatch-handler.ts) and the job reaper (job-reaper.ts). A sent batch is recorded in ONE statement with
// what it still owes the broker (sent_batches.followups), the job's counts added and the job settled once its
// fan-out finished and every published token has a final outcome; the settle rule is written once (readyToSettle,
// settledState) for every statement that applies it.
import type { Broker, DeadLetterOptions, RetryOptions } from '../adapters/broker/broker.js';
import type { PriorityQueue } from '../domain/priority.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { DispatchBatchMessage } from './delivery-body.js';

/**
 * A message a recorded batch still owes the broker (sent_batches.followups, written with its outcome): its retry
 * batch, or its exhausted tokens for the dead-letter queue.
 */
export type Followup = { readonly queue: PriorityQueue; readonly body: DispatchBatchMessage } & (
  | { readonly kind: 'retry'; readonly options: RetryOptions }
  | { readonly kind: 'dead'; readonly reason: string; readonly attempts: number; readonly options: DeadLetterOptions }
);

export interface BatchCounts {
  readonly sent: number;
  readonly failed: number;
  readonly removed: number;
  readonly retried: number;
}

/**
 * Marks the job done (or failed: nothing delivered and something failed) once its fan-out finished and every
 * published token has a final outcome (sent, failed or removed; retries are still pending otherwise).
 */
export async function settleJob(client: { query(text: string, values?: unknown[]): Promise<unknown> }, jobId: string, at: Date): Promise<void> {
  await client.query(
    `UPDATE notification_jobs j
        SET state = ${settledState('j.sent_count', 'j.failed_count')}, updated_at = $2
       FROM fanout_checkpoints c
      WHERE j.id = $1 AND c.job_id = j.id AND ${readyToSettle('j.sent_count', 'j.failed_count', 'j.tokens_removed_count')}`,
    [jobId, at],
  );
}

// The settle rule, written once for the statements that apply it (settleJob, recordBatch on the counts it is adding,
// the job reaper on the tokens it counts as lost). `j` is the job row, `c` its fan-out checkpoint; the arguments are
// SQL expressions of the counts.
const readyToSettle = (sent: string, failed: string, removed: string): string =>
  `j.state IN ('fanning_out', 'sending') AND c.done_at IS NOT NULL AND ${sent} + ${failed} + ${removed} >= c.token_count`;
export const settledState = (sent: string, failed: string): string => `CASE WHEN ${sent} = 0 AND ${failed} > 0 THEN 'failed' ELSE 'done' END`;

/**
 * Records a sent batch in ONE statement (so one round trip, and atomic): the batch in sent_batches with its outcomes
 * by class (migration 0022, read per minute by the on-call dashboard) and the messages it still owes the broker, its claim marked finished, its dead tokens removed, the job's counts added and the job settled (done, or failed when nothing
 * could be delivered, once its fan-out finished and every published token has an outcome). False when a
 * concurrent copy recorded the batch first: its counts stand, these are not added twice.
 */
export async function recordBatch(
  db: PgHandle,
  b: { batchId: string; jobId: string; at: Date; remove: readonly string[]; owner: string; followups: readonly Followup[]; resettle?: boolean } & BatchCounts,
): Promise<boolean> {
  const { rows } = await db.query<{ recorded: boolean; fanout_done: boolean | null }>(
    `WITH ins AS (
       INSERT INTO sent_batches (batch_id, job_id, done_at, followups, sent_count, failed_count, removed_count, retried_count)
       VALUES ($1, $2, $3, $10, $5, $6, $7, $8) ON CONFLICT (batch_id) DO NOTHING RETURNING 1
     ), finished AS (
       -- Kept, not deleted, and never expiring: a copy waiting on this row's lock then finds it taken for good
       -- (ON CONFLICT re-reads the row) and, on its next look, the batch in sent_batches. Only our own claim: a
       -- late copy whose lease was taken over leaves the new holder's alone.
       UPDATE batch_claims SET expires_at = 'infinity' WHERE batch_id = $1 AND claimed_by = $9
     ), progressed AS (
       -- The steps recorded while it was in flight (batch-progress.ts): the whole outcome is in sent_batches now.
       DELETE FROM batch_progress WHERE batch_id = $1 AND EXISTS (SELECT 1 FROM ins)
     ), removed AS (
       UPDATE device_sessions SET push_token = NULL WHERE push_token = ANY($4::text[]) AND EXISTS (SELECT 1 FROM ins)
     ), counted AS (
       UPDATE notification_jobs j
          SET sent_count = j.sent_count + $5, failed_count = j.failed_count + $6,
              tokens_removed_count = j.tokens_removed_count + $7, retried_count = j.retried_count + $8, updated_at = $3,
              state = CASE
                WHEN ${readyToSettle('(j.sent_count + $5)', '(j.failed_count + $6)', '(j.tokens_removed_count + $7)')}
                THEN ${settledState('(j.sent_count + $5)', '(j.failed_count + $6)')}
                ELSE j.state END
         FROM (SELECT 1) AS one LEFT JOIN fanout_checkpoints c ON c.job_id = $2
        WHERE j.id = $2 AND EXISTS (SELECT 1 FROM ins)
       RETURNING c.done_at IS NOT NULL AS fanout_done
     )
     SELECT EXISTS (SELECT 1 FROM ins) AS recorded, (SELECT fanout_done FROM counted) AS fanout_done`,
    [b.batchId, b.jobId, b.at, b.remove, b.sent, b.failed, b.removed, b.retried, b.owner, b.followups.length > 0 ? JSON.stringify(b.followups) : null],
  );
  const recorded = rows[0]?.recorded === true;
  // The statement saw the checkpoint as of its start: if the fan-out finished after that, this batch may be the
  // last and the fan-out's own settle (handleJob) may have run before these counts were committed. A second
  // statement, with a fresh snapshot, closes that gap (only while the fan-out was still running: rare).
  if (recorded && rows[0]?.fanout_done !== true) await settleJob(db, b.jobId, b.at);
  if (recorded && b.resettle) await resettleJob(db, b.jobId, b.at);
  return recorded;
}

/**
 * Settles a finished job again after a replayed dead letter changed its counts (failed tokens delivered after all):
 * `failed` becomes `done` once something was delivered. A job still sending settles as usual.
 */
async function resettleJob(db: PgHandle, jobId: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE notification_jobs j SET state = ${settledState('j.sent_count', 'j.failed_count')}, updated_at = $2 WHERE j.id = $1 AND j.state IN ('done', 'failed')`,
    [jobId, at],
  );
}

/** Publishes what a recorded batch owes the broker, each on confirm, then clears it from the batch's row. */
export async function publishFollowups(db: PgHandle, broker: Broker, batchId: string, owed: readonly Followup[]): Promise<void> {
  for (const f of owed) {
    const body = Buffer.from(JSON.stringify(f.body));
    if (f.kind === 'retry') await broker.retry(f.queue, body, f.options);
    else await broker.deadLetter(f.queue, body, f.reason, f.attempts, f.options);
  }
  await db.query(`UPDATE sent_batches SET followups = NULL WHERE batch_id = $1`, [batchId]);
}

/**
 * Counts a batch the queue is about to dead-letter as failed and settles the job. Not recorded in sent_batches,
 * so the batch can still be replayed from the dead-letter queue. False when the job is gone.
 */
export async function countDeadLettered(db: PgHandle, jobId: string, tokens: number, at: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE notification_jobs SET failed_count = failed_count + $2, updated_at = $3 WHERE id = $1`,
    [jobId, tokens, at],
  );
  if (rowCount !== 1) return false;
  await settleJob(db, jobId, at);
  return true;
}
