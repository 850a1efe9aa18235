// The pure rules of a notification request: FCM payload size and the field blamed, reserved data keys,
// priority order, and the normalised hash idempotency keys are stored with.
import { describe, expect, it } from 'vitest';
import { notificationRequestBody } from '../../../src/contracts/notifications-messages.js';
import {
  FCM_PAYLOAD_LIMIT_BYTES,
  canonicalJson,
  dataKeyProblem,
  fcmPayloadBytes,
  payloadProblem,
  requestHash,
  type NotificationRequest,
} from '../../../src/domain/notification-request.js';
import { priorityRank } from '../../../src/domain/priority.js';

const base: NotificationRequest = { target: { kind: 'everyone' }, type: 'advice', title: 'Conseil', body: 'Éteignez les lumières', data: {} };

describe('FCM payload size', () => {
  it('counts UTF-8 bytes of title, body, data and the keys the worker adds', () => {
    const small = fcmPayloadBytes(base);
    expect(small).toBeGreaterThan(Buffer.byteLength(base.title + base.body));
    // "é" is two bytes: one more é adds two
    expect(fcmPayloadBytes({ ...base, body: base.body + 'é' })).toBe(small + 2);
    expect(fcmPayloadBytes({ ...base, data: { meter: '123' } })).toBeGreaterThan(small);
  });

  it('accepts exactly the limit and blames the largest field beyond it', () => {
    const room = FCM_PAYLOAD_LIMIT_BYTES - fcmPayloadBytes({ ...base, body: '' });
    expect(payloadProblem({ ...base, body: 'x'.repeat(room) })).toBeUndefined();
    expect(payloadProblem({ ...base, body: 'x'.repeat(room + 1) })?.field).toBe('body');
    expect(payloadProblem({ ...base, data: { blob: 'x'.repeat(room) } })?.field).toBe('data');
    expect(payloadProblem({ ...base, title: 'é'.repeat(room) })?.field).toBe('title');
  });

  it('the HTTP schema names the field, under the body', () => {
    const r = notificationRequestBody.safeParse({ ...base, body: 'x'.repeat(4_000), title: 'y'.repeat(500) });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['body']);
    const ok = notificationRequestBody.safeParse(base);
    expect(ok.success).toBe(true);
  });
});

describe('data keys', () => {
  it("refuses FCM's reserved words and prefixes and the server's own keys", () => {
    for (const key of ['from', 'notification', 'message_type', 'google.x', 'gcm.y', 'job_id', 'type', '']) expect(dataKeyProblem(key)).toBeDefined();
    expect(dataKeyProblem('meter')).toBeUndefined();
    const r = notificationRequestBody.safeParse({ ...base, data: { from: 'x' } });
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['data.from']);
  });
});

describe('priority order', () => {
  it('urgent is the highest', () => {
    expect(priorityRank('urgent')).toBeLessThan(priorityRank('high_priority'));
    expect(priorityRank('high_priority')).toBeLessThan(priorityRank('normal'));
    expect(priorityRank('normal')).toBeLessThan(priorityRank('low_priority'));
  });
});

describe('request hash', () => {
  const users = (ids: string[]): NotificationRequest => ({ ...base, target: { kind: 'users', userIds: ids } });
  const a = '0b6f3a52-0000-4000-8000-000000000001';
  const b = '0b6f3a52-0000-4000-8000-000000000002';

  it('is the same for the same request in another form: order of users, duplicates, case, key order, the key itself', () => {
    expect(requestHash(users([a, b]))).toEqual(requestHash(users([b, a, b.toUpperCase()])));
    expect(requestHash({ ...base, data: { x: '1', y: '2' } })).toEqual(requestHash({ ...base, data: { y: '2', x: '1' } }));
    expect(requestHash({ ...base, idempotencyKey: 'k1' })).toEqual(requestHash({ ...base, idempotencyKey: 'k2' }));
  });

  it('differs when anything sent differs', () => {
    const h = requestHash(base);
    expect(requestHash({ ...base, title: 'other' })).not.toEqual(h);
    expect(requestHash({ ...base, priority: 'low_priority' })).not.toEqual(h);
    expect(requestHash({ ...base, data: { x: '1' } })).not.toEqual(h);
    expect(requestHash({ ...base, target: { kind: 'all_agencies' } })).not.toEqual(h);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });
});
