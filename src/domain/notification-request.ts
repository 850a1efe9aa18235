// Pure rules of a notification request: the FCM payload size and the normalised request hash
// that idempotency keys are stored with. No I/O here (unit-tested in test/unit/dispatch).
import { createHash } from 'node:crypto';
import type { PriorityQueue } from './priority.js';

/** FCM refuses a message whose payload is larger than this (notification + data). */
export const FCM_PAYLOAD_LIMIT_BYTES = 4096;

/** Data keys FCM refuses (reserved words and prefixes). */
export const FCM_RESERVED_DATA_KEYS: readonly string[] = ['from', 'notification', 'message_type', 'collapse_key'];
export const FCM_RESERVED_DATA_PREFIXES: readonly string[] = ['google.', 'gcm.'];

/** Keys the worker adds to every push's data: they count towards the limit, and a caller may not set them. */
export const ADDED_DATA_KEYS = ['job_id', 'type'] as const;

export type NotificationTarget =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'users'; readonly userIds: readonly string[] }
  /** Every user with an active link to the meter (a prepaid meter number or a postpaid contract account): outages. */
  | { readonly kind: 'meter'; readonly meter: string }
  | { readonly kind: 'agency'; readonly agency: string }
  | { readonly kind: 'all_agencies' }
  | { readonly kind: 'everyone' };

/** Who a broadcast (one inbox row for many users) reaches: the broadcast kinds of a target. */
export type BroadcastScope = { readonly kind: 'agency'; readonly agency: string } | { readonly kind: 'all_agencies' } | { readonly kind: 'everyone' };

export interface NotificationRequest {
  readonly target: NotificationTarget;
  readonly type: string;
  /** A queue other than the type's: lower for anyone allowed to send, higher for an admin only. */
  readonly priority?: PriorityQueue | undefined;
  readonly title: string;
  readonly body: string;
  readonly data: Readonly<Record<string, string>>;
  /** Scoped to the caller: the same key with the same request gives the same job. */
  readonly idempotencyKey?: string | undefined;
}

/** The field a too-large payload is blamed on (the largest contributor), as `body.<field>`. */
export type PayloadField = 'title' | 'body' | 'data';

const JOB_ID_PLACEHOLDER = '00000000-0000-0000-0000-000000000000';

/**
 * Bytes of the push as FCM carries it: `{"notification":{"title","body"},"data":{…}}` in UTF-8 JSON, with the
 * keys the worker adds (job id, type). JSON overcounts FCM's own count slightly (quotes, braces): never under.
 */
export function fcmPayloadBytes(input: Pick<NotificationRequest, 'title' | 'body' | 'data' | 'type'>): number {
  const data: Record<string, string> = { ...input.data, job_id: JOB_ID_PLACEHOLDER, type: input.type };
  return Buffer.byteLength(JSON.stringify({ notification: { title: input.title, body: input.body }, data }), 'utf8');
}

/** Undefined when the push fits FCM's limit, else the field to name and why. */
export function payloadProblem(input: Pick<NotificationRequest, 'title' | 'body' | 'data' | 'type'>): { field: PayloadField; message: string } | undefined {
  const size = fcmPayloadBytes(input);
  if (size <= FCM_PAYLOAD_LIMIT_BYTES) return undefined;
  const parts: Array<[PayloadField, number]> = [
    ['title', Buffer.byteLength(input.title, 'utf8')],
    ['body', Buffer.byteLength(input.body, 'utf8')],
    ['data', Buffer.byteLength(JSON.stringify(input.data), 'utf8')],
  ];
  const [field] = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { field, message: `the push would be ${size} bytes; FCM accepts at most ${FCM_PAYLOAD_LIMIT_BYTES} (title, body and data together)` };
}

/** Why a data key cannot be sent, or undefined when it can. */
export function dataKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'data keys must not be empty';
  if (FCM_RESERVED_DATA_KEYS.includes(key) || FCM_RESERVED_DATA_PREFIXES.some((p) => key.startsWith(p))) return `"${key}" is reserved by FCM`;
  if ((ADDED_DATA_KEYS as readonly string[]).includes(key)) return `"${key}" is set by the server`;
  return undefined;
}

/** The request in one canonical form: user lists sorted and deduplicated, object keys sorted, no idempotency key. */
export function normaliseRequest(input: NotificationRequest): unknown {
  const target: NotificationTarget = input.target.kind === 'users' ? { kind: 'users', userIds: [...new Set(input.target.userIds.map((u) => u.toLowerCase()))].sort() } : input.target.kind === 'user' ? { kind: 'user', userId: input.target.userId.toLowerCase() } : input.target;
  return { target, type: input.type, priority: input.priority ?? null, title: input.title, body: input.body, data: input.data };
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 of the normalised request (what an idempotency key is stored with). */
export function requestHash(input: NotificationRequest): Buffer {
  return createHash('sha256').update(canonicalJson(normaliseRequest(input))).digest();
}
