// What to do with one token after a send: the per-token outcome table of DESIGN.md §4 and FACTS.md. Pure: the
// sender gathers what firebase-admin and the HTTP response said (response-info.ts) and classifies it here.

/** FCM v1 error codes (plus a few of our own for what never reached FCM or had no FCM code). */
export type FcmOutcomeCode =
  | 'UNREGISTERED'
  | 'INVALID_ARGUMENT'
  | 'SENDER_ID_MISMATCH'
  | 'QUOTA_EXCEEDED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'THIRD_PARTY_AUTH_ERROR'
  | 'PERMISSION_DENIED'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_PAYLOAD'
  | 'AUTHENTICATION'
  | 'CREDENTIAL'
  | 'TLS'
  | 'NETWORK'
  | 'UNKNOWN';

export type FcmOutcome =
  | { readonly kind: 'sent'; readonly messageId?: string }
  | { readonly kind: 'remove-token'; readonly code: FcmOutcomeCode; readonly detail?: string }
  /** `retryAfterMs`: the least delay the server asked for (0: no constraint, the retry tiers decide). */
  | { readonly kind: 'retry'; readonly code: FcmOutcomeCode; readonly retryAfterMs: number; readonly detail?: string }
  | { readonly kind: 'fail'; readonly code: FcmOutcomeCode; readonly alert: boolean; readonly detail?: string };

/** First delay after a 429 that named no Retry-After (FACTS.md: back off at least 60 s). */
export const QUOTA_DEFAULT_RETRY_MS = 60_000;

/** Everything known about one failed send. */
export interface FcmFailure {
  /** firebase-admin's error code, e.g. "messaging/registration-token-not-registered", "app/network-error". */
  readonly code?: string | undefined;
  readonly message?: string | undefined;
  /** HTTP status of FCM's answer, when the sender saw it (firebase-admin's error does not carry it). */
  readonly httpStatus?: number | undefined;
  /** The Retry-After header of FCM's answer, as sent (seconds or an HTTP date). */
  readonly retryAfter?: string | undefined;
  /** `errorCode` of the FcmError detail in FCM's body (UNREGISTERED, SENDER_ID_MISMATCH, …). */
  readonly fcmErrorCode?: string | undefined;
  /** Fields named by a google.rpc.BadRequest detail (e.g. "message.token"). */
  readonly violationFields?: readonly string[] | undefined;
}

/** Retry-After in ms (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

const TOKEN_WORDING = /registration[ -]?token|message\.token/i;
const TOO_BIG_WORDING = /too big|too large|size limit/i;
const SENDER_WORDING = /sender ?id/i;
const TLS_WORDING = /certificate|self[- ]signed|unable to verify|CERT_|altnames|UNABLE_TO_GET_ISSUER/i;

const PAYLOAD_CODES = new Set([
  'messaging/payload-size-limit-exceeded',
  'messaging/invalid-payload',
  'messaging/invalid-data-payload-key',
  'messaging/invalid-options',
  'messaging/invalid-package-name',
  'messaging/invalid-recipient',
]);

/**
 * The outcome of one failed send:
 *   remove the token  UNREGISTERED, INVALID_ARGUMENT about the token, SENDER_ID_MISMATCH
 *   retry             UNAVAILABLE, INTERNAL, QUOTA_EXCEEDED (Retry-After honoured; 429 without one: ≥ 60 s)
 *   fail for good     payload errors, auth/config errors: alert, remove nothing
 * In doubt, never remove a token: an INVALID_ARGUMENT or a PERMISSION_DENIED that is not clearly about the token
 * (a bad payload, a service account without the FCM role) is a failure to alert on, not a dead device.
 */
export function classifyFailure(failure: FcmFailure, nowMs: number = Date.now()): FcmOutcome {
  const code = failure.code ?? '';
  const message = failure.message ?? '';
  const detail = code ? `${code}: ${message}` : message || 'unknown error';
  const retryAfterMs = parseRetryAfter(failure.retryAfter, nowMs);
  const retry = (outcomeCode: FcmOutcomeCode, fallbackMs: number): FcmOutcome => ({ kind: 'retry', code: outcomeCode, retryAfterMs: retryAfterMs ?? fallbackMs, detail });
  const fail = (outcomeCode: FcmOutcomeCode): FcmOutcome => ({ kind: 'fail', code: outcomeCode, alert: true, detail });
  const remove = (outcomeCode: FcmOutcomeCode): FcmOutcome => ({ kind: 'remove-token', code: outcomeCode, detail });

  switch (code) {
    case 'messaging/registration-token-not-registered':
      return remove('UNREGISTERED');
    case 'messaging/invalid-registration-token':
      return remove('INVALID_ARGUMENT');
    case 'messaging/invalid-argument': {
      const aboutToken = (failure.violationFields ?? []).includes('message.token') || TOKEN_WORDING.test(message);
      if (aboutToken) return remove('INVALID_ARGUMENT');
      return TOO_BIG_WORDING.test(message) ? fail('PAYLOAD_TOO_LARGE') : fail('INVALID_ARGUMENT');
    }
    case 'messaging/mismatched-credential':
      // firebase-admin maps both SENDER_ID_MISMATCH and a bare PERMISSION_DENIED (e.g. the service account
      // lacks the FCM role) here: only the former is about the token.
      return failure.fcmErrorCode === 'SENDER_ID_MISMATCH' || SENDER_WORDING.test(message) ? remove('SENDER_ID_MISMATCH') : fail('PERMISSION_DENIED');
    case 'messaging/message-rate-exceeded':
    case 'messaging/device-message-rate-exceeded':
    case 'messaging/topics-message-rate-exceeded':
      return retry('QUOTA_EXCEEDED', QUOTA_DEFAULT_RETRY_MS);
    case 'messaging/server-unavailable':
      return retry('UNAVAILABLE', 0);
    case 'messaging/internal-error':
      return retry('INTERNAL', 0);
    case 'messaging/third-party-auth-error':
      return fail('THIRD_PARTY_AUTH_ERROR');
    case 'messaging/authentication-error':
      return fail('AUTHENTICATION');
    case 'app/invalid-credential':
      return fail('CREDENTIAL');
    case 'app/network-error':
    case 'app/network-timeout':
      // A certificate that does not verify is configuration (CA file, proxy), not a passing outage.
      return TLS_WORDING.test(message) ? fail('TLS') : retry('NETWORK', 0);
    default:
      if (code === 'messaging/payload-size-limit-exceeded') return fail('PAYLOAD_TOO_LARGE');
      if (PAYLOAD_CODES.has(code)) return fail('INVALID_PAYLOAD');
      if (failure.httpStatus === 429) return retry('QUOTA_EXCEEDED', QUOTA_DEFAULT_RETRY_MS);
      // messaging/unknown-error (FCM's UNSPECIFIED_ERROR, a proxy's 502 page) and anything unforeseen: retried;
      // the delivery limit sends a batch that keeps failing to the dead-letter queue.
      return retry('UNKNOWN', 0);
  }
}
