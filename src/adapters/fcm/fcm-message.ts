// The FCM HTTP v1 message for one device token, built from a notification and its type (DOMAIN.md). Pure: no I/O
// and only firebase-admin's types, so it runs in the API (size check) and in pool threads alike.
import type { TokenMessage } from 'firebase-admin/messaging';
import type { PriorityQueue } from '../../domain/priority.js';
import { FCM_PAYLOAD_LIMIT_BYTES } from '../../domain/notification-request.js';

export { FCM_PAYLOAD_LIMIT_BYTES };

/** What the sender sends: firebase-admin's token message (one token per message). */
export type FcmMessage = TokenMessage;

/** The settings of a notification type that shape its push (a row of notification_types). */
export interface FcmTypeSettings {
  readonly code: string;
  readonly ttlSeconds: number;
  /** A newer push with the same key replaces an older one on the device; null/undefined for none. */
  readonly collapseKey?: string | null | undefined;
}

export interface FcmNotification {
  readonly jobId: string;
  /** The queue the job travels on (the type's queue, or the one the sender chose): decides the priority. */
  readonly queue: PriorityQueue;
  readonly type: FcmTypeSettings;
  readonly title: string;
  readonly body: string;
  /** String values only, as FCM carries them; `job_id` and `type` are added here. */
  readonly data?: Readonly<Record<string, string>> | undefined;
}

export interface FcmPriority {
  readonly android: 'high' | 'normal';
  readonly apns: '10' | '5';
}

/** Urgent and high_priority are delivered at once (waking the device); normal and low may be batched by the OS. */
export function fcmPriority(queue: PriorityQueue): FcmPriority {
  return queue === 'urgent' || queue === 'high_priority' ? { android: 'high', apns: '10' } : { android: 'normal', apns: '5' };
}

/**
 * The push for one device token: the queue gives the priority, the type the TTL and the collapse key. `nowMs` fixes
 * the APNs expiration (absolute time) for tests.
 */
export function buildFcmMessage(token: string, notification: FcmNotification, nowMs: number = Date.now()): FcmMessage {
  if (token.length === 0) throw new TypeError('an FCM token must not be empty');
  const { type } = notification;
  if (!Number.isInteger(type.ttlSeconds) || type.ttlSeconds <= 0) throw new RangeError(`ttlSeconds of type ${type.code} must be a positive integer`);
  const priority = fcmPriority(notification.queue);
  const collapseKey = type.collapseKey ?? undefined;
  const data: Record<string, string> = { ...(notification.data ?? {}), job_id: notification.jobId, type: type.code };
  const apnsHeaders: Record<string, string> = {
    'apns-priority': priority.apns,
    'apns-push-type': 'alert',
    'apns-expiration': String(Math.floor(nowMs / 1000) + type.ttlSeconds),
  };
  if (collapseKey !== undefined) apnsHeaders['apns-collapse-id'] = collapseKey;
  return {
    token,
    notification: { title: notification.title, body: notification.body },
    data,
    android: {
      priority: priority.android,
      ttl: type.ttlSeconds * 1000, // firebase-admin takes milliseconds and sends "<s>s"
      ...(collapseKey !== undefined ? { collapseKey } : {}),
    },
    apns: { headers: apnsHeaders },
  };
}

/**
 * Bytes of the payload FCM counts against its 4096-byte limit: notification and data as UTF-8 JSON (the same
 * measure as the API's check in src/domain/notification-request.ts; JSON overcounts slightly, never under).
 */
export function payloadBytes(message: Pick<FcmMessage, 'notification' | 'data'>): number {
  const notification = message.notification ? { title: message.notification.title, body: message.notification.body } : undefined;
  return Buffer.byteLength(JSON.stringify({ notification, data: message.data ?? {} }), 'utf8');
}

/** True when the message fits FCM's payload limit. */
export function fitsPayloadLimit(message: Pick<FcmMessage, 'notification' | 'data'>): boolean {
  return payloadBytes(message) <= FCM_PAYLOAD_LIMIT_BYTES;
}
