// The FCM v1 message for one token: priority from the queue, TTL and collapse key from the type, data as strings
// with job_id and type added; the payload measure agrees with the API's check (src/domain/notification-request.ts).
import { describe, expect, it } from 'vitest';
import { fcmPayloadBytes } from '../../../src/domain/notification-request.js';
import { FCM_PAYLOAD_LIMIT_BYTES, buildFcmMessage, fcmPriority, fitsPayloadLimit, payloadBytes, type FcmNotification } from '../../../src/adapters/fcm/fcm-message.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const JOB = '0b5e1c1e-5d4f-4a43-9d1f-7a8c3e2b9f10';

const outage: FcmNotification = {
  jobId: JOB,
  queue: 'urgent',
  type: { code: 'outage', ttlSeconds: 14_400, collapseKey: 'outage' },
  title: 'Coupure',
  body: 'Coupure sur votre compteur',
  data: { meter: '14123456789' },
};
const advice: FcmNotification = { jobId: JOB, queue: 'low_priority', type: { code: 'advice', ttlSeconds: 604_800, collapseKey: null }, title: 'Conseil', body: 'Éteignez', data: {} };

describe('buildFcmMessage', () => {
  it('urgent: Android HIGH, APNs 10, TTL and collapse key of the type', () => {
    const m = buildFcmMessage('tok-1', outage, NOW);
    expect(m).toEqual({
      token: 'tok-1',
      notification: { title: 'Coupure', body: 'Coupure sur votre compteur' },
      data: { meter: '14123456789', job_id: JOB, type: 'outage' },
      android: { priority: 'high', ttl: 14_400_000, collapseKey: 'outage' },
      apns: { headers: { 'apns-priority': '10', 'apns-push-type': 'alert', 'apns-expiration': String(NOW / 1000 + 14_400), 'apns-collapse-id': 'outage' } },
    });
  });

  it('low: NORMAL and 5, no collapse key when the type has none', () => {
    const m = buildFcmMessage('tok-2', advice, NOW);
    expect(m.android).toEqual({ priority: 'normal', ttl: 604_800_000 });
    expect(m.apns?.headers).toEqual({ 'apns-priority': '5', 'apns-push-type': 'alert', 'apns-expiration': String(NOW / 1000 + 604_800) });
  });

  it('maps each queue to its priority', () => {
    expect(fcmPriority('urgent')).toEqual({ android: 'high', apns: '10' });
    expect(fcmPriority('high_priority')).toEqual({ android: 'high', apns: '10' });
    expect(fcmPriority('normal')).toEqual({ android: 'normal', apns: '5' });
    expect(fcmPriority('low_priority')).toEqual({ android: 'normal', apns: '5' });
  });

  it('refuses an empty token and a non-positive TTL', () => {
    expect(() => buildFcmMessage('', outage)).toThrow(/empty/);
    expect(() => buildFcmMessage('t', { ...outage, type: { ...outage.type, ttlSeconds: 0 } })).toThrow(/ttlSeconds/);
  });
});

describe('payloadBytes', () => {
  it('measures exactly what the API checks, so an accepted request is never refused by the sender', () => {
    for (const n of [outage, advice, { ...advice, body: 'é'.repeat(1000), data: { a: 'b', 'ключ': 'значение' } }]) {
      const m = buildFcmMessage('tok', n, NOW);
      expect(payloadBytes(m)).toBe(fcmPayloadBytes({ title: n.title, body: n.body, data: n.data ?? {}, type: n.type.code }));
    }
  });

  it('is in UTF-8 bytes and ignores the token and platform options', () => {
    const a = buildFcmMessage('short', advice, NOW);
    const b = buildFcmMessage('a-much-longer-token'.repeat(10), advice, NOW);
    expect(payloadBytes(a)).toBe(payloadBytes(b));
    expect(payloadBytes(buildFcmMessage('t', { ...advice, body: advice.body + 'é' }, NOW))).toBe(payloadBytes(a) + 2);
  });

  it('fits up to the limit and not one byte beyond', () => {
    const room = FCM_PAYLOAD_LIMIT_BYTES - payloadBytes(buildFcmMessage('t', { ...advice, body: '' }, NOW));
    expect(fitsPayloadLimit(buildFcmMessage('t', { ...advice, body: 'x'.repeat(room) }, NOW))).toBe(true);
    expect(fitsPayloadLimit(buildFcmMessage('t', { ...advice, body: 'x'.repeat(room + 1) }, NOW))).toBe(false);
  });
});
