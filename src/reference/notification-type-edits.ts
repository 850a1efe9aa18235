// The admins' edit of a notification type (create or replace). Jobs keep the queue they were accepted with
// (notification_jobs.queue), so a new queue applies to new jobs only; the reply warns when jobs are in flight.
import type { PoolClient } from 'pg';
import type { NotificationTypeEdit, PutNotificationTypeInput, ReferenceWarning } from '../contracts/reference-messages.js';
import { notificationTypeSchema, type NotificationType } from '../domain/notification-type.js';
import type { Change } from './reference-audit.js';

const COLUMNS = `code, queue, label, ttl_seconds AS "ttlSeconds", collapse_key AS "collapseKey"`;

export async function putNotificationType(client: PoolClient, code: string, input: PutNotificationTypeInput): Promise<Change<{ created: boolean; item: NotificationTypeEdit }>> {
  // NO KEY UPDATE: jobs being accepted (their foreign key takes KEY SHARE on the type) are not held up.
  const { rows: found } = await client.query(`SELECT ${COLUMNS} FROM notification_types WHERE code = $1 FOR NO KEY UPDATE`, [code]);
  const before = found[0] ? notificationTypeSchema.parse(found[0]) : null;
  const warnings: ReferenceWarning[] = [];
  if (before && before.queue !== input.queue) {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notification_jobs WHERE type = $1 AND state NOT IN ('done', 'failed')`,
      [code],
    );
    const inFlight = rows[0]!.n;
    if (inFlight > 0) {
      warnings.push({
        code: 'JOBS_IN_FLIGHT_KEEP_QUEUE',
        message: `${inFlight} job(s) of type ${code} are in flight: they keep the queue ${before.queue}; the queue ${input.queue} applies to new jobs only.`,
        inFlightJobs: inFlight,
        previousQueue: before.queue,
      });
    }
  }
  const { rows } = await client.query(
    `INSERT INTO notification_types (code, queue, label, ttl_seconds, collapse_key) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (code) DO UPDATE SET queue = EXCLUDED.queue, label = EXCLUDED.label, ttl_seconds = EXCLUDED.ttl_seconds, collapse_key = EXCLUDED.collapse_key
     RETURNING ${COLUMNS}`,
    [code, input.queue, input.label, input.ttlSeconds, input.collapseKey],
  );
  const after: NotificationType = notificationTypeSchema.parse(rows[0]);
  return { action: before ? 'update' : 'create', before, after, result: { created: !before, item: { ...after, warnings } } };
}
