// The reference-data service: small tables read often, served through the cache (which may be down).
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { ReferenceMessage } from '../../src/contracts/reference.js';
import { loadNotificationTypes } from '../../src/notifications/notification-types.js';
import type { Resources } from '../../src/resources.js';

/** Reference data changes rarely; a minute of staleness is fine. */
const TTL_MS = 60_000;

export function referenceActor(res: Resources): () => ActorBehaviour<null, ReferenceMessage> {
  return () => ({
    init: () => null,
    handle(s, msg) {
      const { replyTo } = msg;
      res.cached('reference:notification-types:v1', TTL_MS, async () => loadNotificationTypes(await res.db())).then(
        (v) => replyTo.ok(v),
        (e: Error) => replyTo.fail(e),
      );
      return s;
    },
  });
}
