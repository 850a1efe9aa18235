// Purges what finished work leaves behind, run by the worker's job reaper about once an hour: the dedupe rows of
// jobs finished more than DISPATCH_PURGE_AFTER_DAYS ago (sent_batches, batch_claims, batch_progress: no copy of their
// batches is expected back that late — one replayed from dead_letters afterwards would be sent again), the node
// registry's rows of processes gone for as long, and, through the
// accounts' own purge, the SMS budget rows of past days. Deletes in chunks, so no statement holds many locks for long.
import { purgePastBudgetDays } from '../accounts/index.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { deleteInChunks } from '../adapters/postgres/delete-in-chunks.js';

export interface PurgeResult {
  readonly sentBatches: number;
  readonly batchClaims: number;
  /** Progress steps of batches whose holder never recorded them (the batch was recorded by a copy, or the job died). */
  readonly batchProgress: number;
  /** Nodes of the registry stopped or silent for longer than the purge age. */
  readonly nodes: number;
  readonly smsBudget: number;
}

const DAY_MS = 86_400_000;

// Rows of jobs finished before $1, at most $2 of them.
const ofJobsFinishedBefore = (table: string): string =>
  `DELETE FROM ${table} WHERE batch_id IN (
     SELECT t.batch_id FROM ${table} t JOIN notification_jobs j ON j.id = t.job_id
      WHERE j.state IN ('done', 'failed') AND j.updated_at < $1 LIMIT $2)`;

export async function purgeFinished(db: PgHandle, now: Date, afterDays: number): Promise<PurgeResult> {
  const finishedBefore = new Date(now.getTime() - afterDays * DAY_MS);
  return {
    sentBatches: await deleteInChunks(db, ofJobsFinishedBefore('sent_batches'), finishedBefore),
    batchClaims: await deleteInChunks(db, ofJobsFinishedBefore('batch_claims'), finishedBefore),
    batchProgress: await deleteInChunks(db, ofJobsFinishedBefore('batch_progress'), finishedBefore),
    nodes: await deleteInChunks(db, `DELETE FROM nodes WHERE incarnation IN (SELECT incarnation FROM nodes WHERE alive_until < $1 LIMIT $2)`, finishedBefore),
    smsBudget: await purgePastBudgetDays(db, now.getTime()),
  };
}
