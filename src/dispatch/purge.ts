// Purges what finished work leaves behind, run by the worker's job reaper about once an hour: the dedupe rows of
// jobs finished more than DISPATCH_PURGE_AFTER_DAYS ago (sent_batches, batch_claims: no copy of their batches is
// expected back that late — one replayed from dead_letters afterwards would be sent again), and the SMS budget rows
// of past days (the budget counts per UTC day). Deletes in chunks, so no statement holds many locks for long.
import type { PgHandle } from '../contracts/postgres.js';

export interface PurgeResult {
  readonly sentBatches: number;
  readonly batchClaims: number;
  readonly smsBudget: number;
}

const DAY_MS = 86_400_000;

/** Rows per DELETE statement. */
const CHUNK = 5_000;

/** Deletes `chunk`-sized slices with `statement` ($1 = the cut-off, $2 = the chunk) until one deletes fewer. */
async function inChunks(db: PgHandle, statement: string, cutoff: Date | string): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(statement, [cutoff, CHUNK]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < CHUNK) return total;
  }
}

// Rows of jobs finished before $1, at most $2 of them.
const ofJobsFinishedBefore = (table: string): string =>
  `DELETE FROM ${table} WHERE batch_id IN (
     SELECT t.batch_id FROM ${table} t JOIN notification_jobs j ON j.id = t.job_id
      WHERE j.state IN ('done', 'failed') AND j.updated_at < $1 LIMIT $2)`;

export async function purgeFinished(db: PgHandle, now: Date, afterDays: number): Promise<PurgeResult> {
  const finishedBefore = new Date(now.getTime() - afterDays * DAY_MS);
  const today = now.toISOString().slice(0, 10);
  return {
    sentBatches: await inChunks(db, ofJobsFinishedBefore('sent_batches'), finishedBefore),
    batchClaims: await inChunks(db, ofJobsFinishedBefore('batch_claims'), finishedBefore),
    smsBudget: await inChunks(db, `DELETE FROM sms_budget WHERE (day, phone) IN (SELECT day, phone FROM sms_budget WHERE day < $1::date LIMIT $2)`, today),
  };
}
