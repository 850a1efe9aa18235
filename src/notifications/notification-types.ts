// The one read of the notification_types table: the reference actor serves it through the cache, job intake reads
// one type fresh inside its transaction (a type added is usable at once, as the queue it names is).
import { notificationTypeSchema, type NotificationType } from '../domain/notification-type.js';

/** A pg PoolClient (inside a transaction) or a PgHandle. */
export interface TypeReader {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Every notification type by code, or the one named `code` (none when it does not exist). */
export async function loadNotificationTypes(db: TypeReader, code?: string): Promise<NotificationType[]> {
  const { rows } = await db.query(
    `SELECT code, queue, label, ttl_seconds AS "ttlSeconds", collapse_key AS "collapseKey" FROM notification_types
      WHERE $1::text IS NULL OR code = $1 ORDER BY code`,
    [code ?? null],
  );
  return rows.map((r) => notificationTypeSchema.parse(r));
}
