// Reference data: small tables read often, served through the cache (which may be down).
import { notificationTypeSchema, type NotificationType } from '../contracts/reference.js';
import type { Resources } from '../resources.js';

/** Reference data changes rarely; a minute of staleness is fine. */
const TTL_MS = 60_000;

export class ReferenceService {
  constructor(private readonly res: Resources) {}

  notificationTypes(): Promise<NotificationType[]> {
    return this.res.cached('reference:notification-types:v1', TTL_MS, async () => {
      const db = await this.res.db();
      const { rows } = await db.query(
        `SELECT code, queue, label, ttl_seconds AS "ttlSeconds", collapse_key AS "collapseKey" FROM notification_types ORDER BY code`,
      );
      return rows.map((r) => notificationTypeSchema.parse(r));
    });
  }
}
