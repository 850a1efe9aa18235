// Reference data: small tables read often, served through the cache (which may be down).
import type { NotificationType } from '../domain/notification-type.js';
import { loadNotificationTypes } from '../notifications/index.js';
import type { Resources } from '../resources.js';

/** Reference data changes rarely; a minute of staleness is fine. */
const TTL_MS = 60_000;

export class ReferenceService {
  constructor(private readonly res: Resources) {}

  notificationTypes(): Promise<NotificationType[]> {
    return this.res.cached('reference:notification-types:v1', TTL_MS, async () => loadNotificationTypes(await this.res.db()));
  }
}
