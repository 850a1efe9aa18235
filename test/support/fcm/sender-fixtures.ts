// What the FCM sender tests share: the project, a constant credential (no token call), two notifications, and
// senders of one transport that are all closed after each test.
import { createFcmSender, type FcmSender, type FcmSenderOptions } from '../../../src/adapters/fcm/fcm-sender.js';
import type { FcmNotification } from '../../../src/adapters/fcm/fcm-message.js';
import { expect } from 'vitest';
import type { FcmOutcome } from '../../../src/adapters/fcm/fcm-outcome.js';
import type { FakeFcm, OutcomeScript } from './fake-fcm-server.js';

export const PROJECT = 'samaconso-test';
export const credential = { getAccessToken: async () => ({ access_token: 'test-access-token', expires_in: 3600 }) };
export const JOB = '0b5e1c1e-5d4f-4a43-9d1f-7a8c3e2b9f10';

export const urgentOutage: FcmNotification = { jobId: JOB, queue: 'urgent', type: { code: 'outage', ttlSeconds: 14_400, collapseKey: 'outage' }, title: 'Coupure', body: 'Coupure sur votre compteur', data: { meter: '141' } };
export const lowAdvice: FcmNotification = { jobId: JOB, queue: 'low_priority', type: { code: 'advice', ttlSeconds: 604_800, collapseKey: null }, title: 'Conseil', body: 'Éteignez les lumières' };

export interface SenderFactory {
  sender(options?: Partial<FcmSenderOptions>): FcmSender;
  /** Straight to the fake (dial seam: 127.0.0.1:port, servername fcm.googleapis.com), trusting the test CA file. */
  directSender(options?: Partial<FcmSenderOptions>): FcmSender;
  closeAll(): Promise<void>;
}

export function senderFactory(transport: FcmSenderOptions['transport'], fake: () => FakeFcm): SenderFactory {
  const senders: FcmSender[] = [];
  const sender = (options: Partial<FcmSenderOptions> = {}): FcmSender => {
    const s = createFcmSender({ projectId: PROJECT, credential, transport, ...options });
    senders.push(s);
    return s;
  };
  return {
    sender,
    directSender: (options = {}) => sender({ dialOverride: { host: fake().host, port: fake().port }, extraCaFile: fake().caFile, ...options }),
    closeAll: async () => {
      await Promise.all(senders.splice(0).map((s) => s.close()));
    },
  };
}

/** One token per outcome class, with what the sender must answer for each (tokens in this order). */
export const MIXED: OutcomeScript = {
  'tok-unregistered': 'UNREGISTERED',
  'tok-invalid': 'INVALID_ARGUMENT',
  'tok-mismatch': 'SENDER_ID_MISMATCH',
  'tok-quota': 'QUOTA_EXCEEDED', // the fake's default Retry-After: 60 s
  'tok-quota-7': { error: 'QUOTA_EXCEEDED', retryAfterSeconds: 7 },
  'tok-unavailable': 'UNAVAILABLE', // firebase-admin alone would retry this up to 4 times
  'tok-unavailable-30': { error: 'UNAVAILABLE', retryAfterSeconds: 30 },
  'tok-internal': 'INTERNAL',
  'tok-apns-auth': 'THIRD_PARTY_AUTH_ERROR',
};
export const EXPECTED: Record<string, Partial<Record<string, unknown>>> = {
  'tok-ok-1': { kind: 'sent', messageId: expect.stringMatching(/^projects\/samaconso-test\/messages\/\d+$/) },
  'tok-unregistered': { kind: 'remove-token', code: 'UNREGISTERED' },
  'tok-ok-2': { kind: 'sent' },
  'tok-invalid': { kind: 'remove-token', code: 'INVALID_ARGUMENT' },
  'tok-mismatch': { kind: 'remove-token', code: 'SENDER_ID_MISMATCH' },
  'tok-quota': { kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: 60_000 },
  'tok-quota-7': { kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: 7_000 },
  'tok-unavailable': { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 0 },
  'tok-unavailable-30': { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 30_000 },
  'tok-internal': { kind: 'retry', code: 'INTERNAL', retryAfterMs: 0 },
  'tok-apns-auth': { kind: 'fail', code: 'THIRD_PARTY_AUTH_ERROR', alert: true },
  'tok-ok-3': { kind: 'sent' },
};
export const MIXED_TOKENS = Object.keys(EXPECTED);

/** The outcomes of MIXED_TOKENS, checked against EXPECTED and against the fake's own counts. */
export function checkMixed(fake: FakeFcm, outcomes: FcmOutcome[], httpVersion: string): void {
  expect(outcomes).toHaveLength(MIXED_TOKENS.length);
  MIXED_TOKENS.forEach((token, i) => expect({ token, ...outcomes[i] }).toMatchObject({ token, ...EXPECTED[token] }));
  // The fake's own counts: one request per token (no hidden retry by firebase-admin, not even for the 503s).
  expect(fake.stats()).toMatchObject({ requests: 12, delivered: 3, failed: 9, byHttpVersion: { [httpVersion]: 12 } });
  for (const token of MIXED_TOKENS) expect(fake.attemptsFor(token)).toBe(1);
  expect(fake.deliveredTokens()).toEqual(new Set(['tok-ok-1', 'tok-ok-2', 'tok-ok-3']));
}
