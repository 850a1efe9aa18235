// The one read of the notification_types table: the reference actor serves it through the cache, job intake reads
// one type fresh inside its transaction (a type added is usable at once, as the queue it names is).
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import { notificationTypeSchema, type NotificationType } from '../domain/notification-type.js';


/** Every notification type by code, or the one named `code` (none when it does not exist). */
export async function loadNotificationTypes(db: Queryable, code?: string): Promise<NotificationType[]> {
  const { rows } = await db.query(
    `SELECT code, queue, label, ttl_seconds AS "ttlSeconds", collapse_key AS "collapseKey" FROM notification_types
      WHERE $1::text IS NULL OR code = $1 ORDER BY code`,
    [code ?? null],
  );
  return rows.map((r) => notificationTypeSchema.parse(r));
}
