// The admins' edit of a notification type (create or replace). Jobs keep the queue they were accepted with
// (notification_jobs.queue), and workers the TTL and collapse key they first read for a job; the reply warns when
// jobs are in flight.
import type { PoolClient } from 'pg';
import type { NotificationTypeEdit, PutNotificationTypeInput, ReferenceWarning } from '../contracts/reference-messages.js';
import { notificationTypeSchema, type NotificationType } from '../domain/notification-type.js';
import type { Change } from './reference-audit.js';

const COLUMNS = `code, queue, label, ttl_seconds AS "ttlSeconds", collapse_key AS "collapseKey"`;

export async function putNotificationType(client: PoolClient, code: string, input: PutNotificationTypeInput): Promise<Change<{ created: boolean; item: NotificationTypeEdit }>> {
  // A new code has no row to lock: without this, two first PUTs would both read none and both audit a create.
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('notification_types:' || $1))`, [code]);
  // NO KEY UPDATE: jobs being accepted (their foreign key takes KEY SHARE on the type) are not held up.
  const { rows: found } = await client.query(`SELECT ${COLUMNS} FROM notification_types WHERE code = $1 FOR NO KEY UPDATE`, [code]);
  const before = found[0] ? notificationTypeSchema.parse(found[0]) : null;
  const warnings = before ? await inFlightWarnings(client, code, before, input) : [];
  const { rows } = await client.query(
    `INSERT INTO notification_types (code, queue, label, ttl_seconds, collapse_key) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (code) DO UPDATE SET queue = EXCLUDED.queue, label = EXCLUDED.label, ttl_seconds = EXCLUDED.ttl_seconds, collapse_key = EXCLUDED.collapse_key
     RETURNING ${COLUMNS}`,
    [code, input.queue, input.label, input.ttlSeconds, input.collapseKey],
  );
  const after: NotificationType = notificationTypeSchema.parse(rows[0]);
  return { action: before ? 'update' : 'create', before, after, result: { created: !before, item: { ...after, warnings } } };
}

/** The TTL and collapse key a worker caches per job (src/dispatch/job-settings.ts): an edit may not reach a job in flight. */
const DELIVERY_SETTINGS = ['ttlSeconds', 'collapseKey'] as const;

/** What an edit of an existing type does not change for its jobs in flight (none in flight: nothing to say). */
async function inFlightWarnings(client: PoolClient, code: string, before: NotificationType, input: PutNotificationTypeInput): Promise<ReferenceWarning[]> {
  const queueChanged = before.queue !== input.queue;
  const changed = DELIVERY_SETTINGS.filter((f) => before[f] !== input[f]);
  if (!queueChanged && changed.length === 0) return [];
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification_jobs WHERE type = $1 AND state NOT IN ('done', 'failed')`, [code]);
  const inFlight = rows[0]!.n;
  if (inFlight === 0) return [];
  const warnings: ReferenceWarning[] = [];
  if (queueChanged) {
    warnings.push({
      code: 'JOBS_IN_FLIGHT_KEEP_QUEUE',
      message: `${inFlight} job(s) of type ${code} are in flight: they keep the queue ${before.queue}; the queue ${input.queue} applies to new jobs only.`,
      inFlightJobs: inFlight,
      previousQueue: before.queue,
    });
  }
  if (changed.length > 0) {
    const names = changed.map((f) => (f === 'ttlSeconds' ? 'TTL' : 'collapse key')).join(' and ');
    warnings.push({
      code: 'JOBS_IN_FLIGHT_MAY_KEEP_SETTINGS',
      message:
        `${inFlight} job(s) of type ${code} are in flight: a worker that has already read one keeps its previous ${names} ` +
        `for the job's remaining batches, so those may still be sent with the previous values; new jobs get the new ones.`,
      inFlightJobs: inFlight,
      changed,
    });
  }
  return warnings;
}
