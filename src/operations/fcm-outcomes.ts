// FCM's per-token outcomes per minute, cluster-wide: summed from the batches every worker recorded in sent_batches
// (migration 0022), so any API instance answers for the whole cluster, and a worker restarting loses nothing.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { FcmMinute } from '../contracts/on-call-messages.js';

/** How many minutes the dashboard shows, the current one included. */
export const FCM_MINUTES = 30;

interface MinuteRow {
  minute: Date;
  sent: number;
  retried: number;
  removed: number;
  failed: number;
}

/**
 * One entry per minute of the last FCM_MINUTES ending with the minute of `now` (the injected clock), oldest first,
 * zeros where nothing was recorded. Uses sent_batches_done_at (a range on done_at).
 */
export async function fcmOutcomesPerMinute(db: PgHandle, now: Date): Promise<FcmMinute[]> {
  const { rows } = await db.query<MinuteRow>(
    `WITH minutes AS (
       SELECT generate_series(date_trunc('minute', $1::timestamptz) - ($2::integer - 1) * interval '1 minute', date_trunc('minute', $1::timestamptz), interval '1 minute') AS minute
     ), recorded AS (
       SELECT date_trunc('minute', done_at) AS minute, sum(sent_count)::int AS sent, sum(retried_count)::int AS retried,
              sum(removed_count)::int AS removed, sum(failed_count)::int AS failed
         FROM sent_batches
        WHERE done_at >= date_trunc('minute', $1::timestamptz) - ($2::integer - 1) * interval '1 minute'
          AND done_at < date_trunc('minute', $1::timestamptz) + interval '1 minute'
        GROUP BY 1
     )
     SELECT m.minute, coalesce(r.sent, 0) AS sent, coalesce(r.retried, 0) AS retried, coalesce(r.removed, 0) AS removed, coalesce(r.failed, 0) AS failed
       FROM minutes m LEFT JOIN recorded r USING (minute)
      ORDER BY m.minute`,
    [now, FCM_MINUTES],
  );
  return rows.map((r) => ({ minute: r.minute.toISOString(), sent: r.sent, retried: r.retried, removed: r.removed, failed: r.failed }));
}
