// Batch claims (batch_claims, migrations 0007 and 0013): a push batch is claimed before it is sent, so that a copy
// delivered again while the first is still in flight does not send it twice. A claim names its holder's incarnation
// in the node registry and carries a lease renewed while the batch is in flight. It is *live* while it is not finished
// (recordBatch sets 'infinity'), its lease runs, and its holder is alive (src/cluster/node-registry.ts); a claim that
// is not live is taken over at once. `liveClaim` is that rule as SQL, written once for the claim and the job reaper.
import { holderAlive } from '../cluster/index.js';
import type { Clock } from '../clock.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { Followup } from './batch-ledger.js';
import { recordedProgress, recordedStepsSql, type RecordedProgress } from './batch-progress.js';

/**
 * SQL: the claim row `alias` is live at `now` (an SQL expression): not finished, its lease running, and its holder
 * alive (a claim without a holder, made by a handler outside the registry, is a lease only).
 */
export const liveClaim = (alias: string, now: string): string =>
  `(${alias}.expires_at <> 'infinity' AND ${alias}.expires_at > ${now} AND (${alias}.holder IS NULL OR ${holderAlive(`${alias}.holder`)}))`;

/**
 * 'done': the batch was recorded (by another holder, or an earlier attempt), with what it still owes the broker.
 * 'claimed': ours now, with what earlier holders recorded of its progress. 'held': a live claim of someone else has it.
 */
export type ClaimResult =
  | { readonly state: 'claimed'; readonly progress: RecordedProgress; readonly tookOverFrom: string | undefined }
  | { readonly state: 'done'; readonly owed: readonly Followup[] }
  | { readonly state: 'held'; readonly by: string };

export interface ClaimRequest {
  readonly batchId: string;
  readonly jobId: string;
  /** This delivery's name on the claim (the same across its outage retries, so a retry finds its own claim). */
  readonly owner: string;
  /** The holder's incarnation in the node registry (null: a lease only). */
  readonly holder: string | null;
  readonly now: Date;
  readonly leaseMs: number;
}

/** Claims a batch in one round trip: sees whether it is done, takes it (or takes over a claim that is not live). */
export async function claimBatch(db: PgHandle, c: ClaimRequest): Promise<ClaimResult> {
  const { rows } = await db.query<{ done: boolean; owed: Followup[] | null; claimed: boolean; before: string | null; steps: unknown }>(
    `WITH done AS (SELECT followups FROM sent_batches WHERE batch_id = $1),
          before AS (SELECT claimed_by FROM batch_claims WHERE batch_id = $1),
          taken AS (
            INSERT INTO batch_claims (batch_id, job_id, claimed_by, holder, expires_at)
            SELECT $1, $2, $3, $6, $4 WHERE NOT EXISTS (SELECT 1 FROM done)
            ON CONFLICT (batch_id) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
             -- never a finished claim (its batch is in sent_batches); our own again, or one that is not live
             WHERE batch_claims.expires_at <> 'infinity' AND (batch_claims.claimed_by = EXCLUDED.claimed_by OR NOT ${liveClaim('batch_claims', '$5')})
            RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM done) AS done, (SELECT followups FROM done) AS owed, EXISTS (SELECT 1 FROM taken) AS claimed,
            (SELECT claimed_by FROM before) AS before, ${recordedStepsSql} AS steps`,
    [c.batchId, c.jobId, c.owner, new Date(c.now.getTime() + c.leaseMs), c.now, c.holder],
  );
  const r = rows[0];
  if (r?.done) return { state: 'done', owed: r.owed ?? [] };
  if (r?.claimed) return { state: 'claimed', progress: recordedProgress(r.steps), tookOverFrom: r.before ?? undefined };
  return { state: 'held', by: r?.before ?? 'unknown' };
}

/** Gives a claim back (its send failed): the copy that comes back takes the batch at once, not after the lease. */
export async function releaseClaim(db: PgHandle, batchId: string, owner: string): Promise<void> {
  await db.query(`DELETE FROM batch_claims WHERE batch_id = $1 AND claimed_by = $2`, [batchId, owner]);
}

/**
 * Renews a claim's lease every third of it until stopped (a failed renewal is retried at the next tick; a finished
 * claim is never reopened): a batch waiting its turn in the scheduler is not taken over.
 */
export function keepClaim(db: PgHandle, clock: Clock, batchId: string, owner: string, leaseMs: number): { stop(): void } {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let stopped = false;
  const renew = (): Promise<unknown> =>
    db.query(`UPDATE batch_claims SET expires_at = $3 WHERE batch_id = $1 AND claimed_by = $2 AND expires_at <> 'infinity'`, [
      batchId,
      owner,
      new Date(clock.now() + leaseMs),
    ]);
  const tick = (): void => {
    timer = clock.setTimeout(() => {
      if (stopped) return;
      void renew()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) tick();
        });
    }, leaseMs / 3);
  };
  tick();
  return {
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
