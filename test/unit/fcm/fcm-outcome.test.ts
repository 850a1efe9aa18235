// The per-token outcome table (DESIGN.md §4, FACTS.md): which firebase-admin/FCM answers remove a token, which are
// retried (with which least delay) and which fail for good with an alert, removing nothing.
import { describe, expect, it } from 'vitest';
import { QUOTA_DEFAULT_RETRY_MS, classifyFailure, parseRetryAfter, type FcmFailure } from '../../../src/adapters/fcm/fcm-outcome.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('classifyFailure', () => {
  const table: Array<[string, FcmFailure, Record<string, unknown>]> = [
    ['UNREGISTERED', { code: 'messaging/registration-token-not-registered', message: 'Requested entity was not found.', httpStatus: 404, fcmErrorCode: 'UNREGISTERED' }, { kind: 'remove-token', code: 'UNREGISTERED' }],
    ['token INVALID_ARGUMENT (wording)', { code: 'messaging/invalid-argument', message: 'The registration token is not a valid FCM registration token', httpStatus: 400 }, { kind: 'remove-token', code: 'INVALID_ARGUMENT' }],
    ['token INVALID_ARGUMENT (BadRequest field)', { code: 'messaging/invalid-argument', message: 'Request contains an invalid argument.', violationFields: ['message.token'] }, { kind: 'remove-token', code: 'INVALID_ARGUMENT' }],
    ['legacy invalid-registration-token', { code: 'messaging/invalid-registration-token', message: 'Invalid registration' }, { kind: 'remove-token', code: 'INVALID_ARGUMENT' }],
    ['SENDER_ID_MISMATCH', { code: 'messaging/mismatched-credential', message: 'SenderId mismatch', httpStatus: 403, fcmErrorCode: 'SENDER_ID_MISMATCH' }, { kind: 'remove-token', code: 'SENDER_ID_MISMATCH' }],
    ['PERMISSION_DENIED not about a sender id: keep the token', { code: 'messaging/mismatched-credential', message: "Permission 'cloudmessaging.messages.create' denied on resource", httpStatus: 403 }, { kind: 'fail', code: 'PERMISSION_DENIED', alert: true }],
    ['payload INVALID_ARGUMENT', { code: 'messaging/invalid-argument', message: 'Invalid value at message.android.ttl', httpStatus: 400 }, { kind: 'fail', code: 'INVALID_ARGUMENT', alert: true }],
    ['message too big', { code: 'messaging/invalid-argument', message: 'Message is too big', httpStatus: 400 }, { kind: 'fail', code: 'PAYLOAD_TOO_LARGE', alert: true }],
    ['payload-size-limit-exceeded', { code: 'messaging/payload-size-limit-exceeded', message: 'too big' }, { kind: 'fail', code: 'PAYLOAD_TOO_LARGE', alert: true }],
    ['invalid data key', { code: 'messaging/invalid-data-payload-key', message: 'from' }, { kind: 'fail', code: 'INVALID_PAYLOAD', alert: true }],
    ['third-party auth (APNs)', { code: 'messaging/third-party-auth-error', message: 'Auth error from APNS', httpStatus: 401 }, { kind: 'fail', code: 'THIRD_PARTY_AUTH_ERROR', alert: true }],
    ['non-JSON 401', { code: 'messaging/authentication-error', message: 'Unauthorized' }, { kind: 'fail', code: 'AUTHENTICATION', alert: true }],
    ['credential', { code: 'app/invalid-credential', message: 'failed to fetch a valid Google OAuth2 access token' }, { kind: 'fail', code: 'CREDENTIAL', alert: true }],
    ['TLS verification', { code: 'app/network-error', message: 'Error while making request: self-signed certificate in certificate chain. Error code: SELF_SIGNED_CERT_IN_CHAIN' }, { kind: 'fail', code: 'TLS', alert: true }],
    ['network', { code: 'app/network-error', message: 'Error while making request: connect ECONNREFUSED 127.0.0.1:1. Error code: ECONNREFUSED' }, { kind: 'retry', code: 'NETWORK', retryAfterMs: 0 }],
    ['UNAVAILABLE', { code: 'messaging/server-unavailable', message: 'unavailable', httpStatus: 503 }, { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 0 }],
    ['UNAVAILABLE with Retry-After', { code: 'messaging/server-unavailable', message: 'unavailable', httpStatus: 503, retryAfter: '120' }, { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 120_000 }],
    ['INTERNAL', { code: 'messaging/internal-error', message: 'Internal error', httpStatus: 500 }, { kind: 'retry', code: 'INTERNAL', retryAfterMs: 0 }],
    ['QUOTA_EXCEEDED without Retry-After: ≥ 60 s', { code: 'messaging/message-rate-exceeded', message: 'Quota exceeded' }, { kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: QUOTA_DEFAULT_RETRY_MS }],
    ['QUOTA_EXCEEDED with Retry-After', { code: 'messaging/message-rate-exceeded', message: 'Quota exceeded', httpStatus: 429, retryAfter: '7' }, { kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: 7_000 }],
    ['device rate exceeded', { code: 'messaging/device-message-rate-exceeded', message: 'too many' }, { kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: QUOTA_DEFAULT_RETRY_MS }],
    ['unknown error (e.g. a proxy 502 page)', { code: 'messaging/unknown-error', message: 'Raw server response', httpStatus: 502 }, { kind: 'retry', code: 'UNKNOWN', retryAfterMs: 0 }],
    ['no code at all', { message: 'boom' }, { kind: 'retry', code: 'UNKNOWN', retryAfterMs: 0 }],
  ];

  it.each(table)('%s', (_name, failure, expected) => {
    expect(classifyFailure(failure, NOW)).toMatchObject(expected);
  });

  it('never removes a token for a fail or a retry, and every fail alerts', () => {
    for (const [, failure] of table) {
      const outcome = classifyFailure(failure, NOW);
      if (outcome.kind === 'fail') expect(outcome.alert).toBe(true);
    }
    const removing = table.filter(([, f]) => classifyFailure(f, NOW).kind === 'remove-token').map(([n]) => n);
    expect(removing).toHaveLength(5);
  });

  it('keeps what firebase-admin said as the detail', () => {
    expect(classifyFailure({ code: 'messaging/internal-error', message: 'Internal error' }, NOW)).toMatchObject({ detail: 'messaging/internal-error: Internal error' });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, ignores junk', () => {
    expect(parseRetryAfter('30', NOW)).toBe(30_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90_000);
    expect(parseRetryAfter(new Date(NOW - 5_000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});
