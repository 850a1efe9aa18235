// The reference-data service: small tables read often, served through the cache (which may be down).
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import { notificationTypeSchema, type NotificationType, type ReferenceMessage } from '../../src/contracts/reference.js';
import type { Resources } from '../../src/resources.js';

/** Reference data changes rarely; a minute of staleness is fine. */
const TTL_MS = 60_000;

export function referenceActor(res: Resources): () => ActorBehaviour<null, ReferenceMessage> {
  const loadNotificationTypes = async (): Promise<NotificationType[]> => {
    const db = await res.db();
    const { rows } = await db.query(
      `SELECT code, queue, label, ttl_seconds AS "ttlSeconds", collapse_key AS "collapseKey" FROM notification_types ORDER BY code`,
    );
    return rows.map((r) => notificationTypeSchema.parse(r));
  };
  return () => ({
    init: () => null,
    handle(s, msg) {
      const { replyTo } = msg;
      res.cached('reference:notification-types:v1', TTL_MS, loadNotificationTypes).then(
        (v) => replyTo.ok(v),
        (e: Error) => replyTo.fail(e),
      );
      return s;
    },
  });
}
