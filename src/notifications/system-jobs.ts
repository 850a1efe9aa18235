// Notifications the product sends on its own account (a meter access request, a link decided): a `system` job and
// its outbox row written on the caller's transaction, so the act and its notification commit together or not at all.
import { randomUUID } from 'node:crypto';
import { requestHash, type NotificationTarget } from '../domain/notification-request.js';
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import { insertJobWithOutbox } from './job-rows.js';
import { loadNotificationTypes } from './notification-types.js';

export interface SystemNotification {
  /** The user whose act caused it (the job's created_by): the requester of a link, the owner or agent who decided. */
  readonly causedBy: string;
  readonly target: Extract<NotificationTarget, { kind: 'user' } | { kind: 'users' }>;
  /** A notification type's code; its queue is the type's. */
  readonly type: string;
  readonly title: string;
  readonly body: string;
  readonly data: Readonly<Record<string, string>>;
}

/** Accepts the job on `client`'s open transaction and returns its id; an unknown type is a programming error. */
export async function acceptSystemJob(client: Queryable, notification: SystemNotification, at: Date, newId: () => string = randomUUID): Promise<string> {
  const queue = (await loadNotificationTypes(client, notification.type))[0]?.queue;
  if (!queue) throw new Error(`notification type "${notification.type}" is not in notification_types`);
  const id = newId();
  const { causedBy, target, type, title, body, data } = notification;
  // No idempotency key: each act makes its own job, so the insert cannot meet a conflict.
  await insertJobWithOutbox(client, {
    id,
    createdBy: causedBy,
    callerRole: 'system',
    callerAgency: null,
    target,
    type,
    queue,
    title,
    body,
    data,
    idempotencyKey: null,
    requestHash: requestHash({ target, type, title, body, data }),
    at,
  });
  return id;
}
