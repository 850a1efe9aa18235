// The typed errors of SMS sending; callers branch on `code`.
import { AppError } from '../../errors/app-error.js';

/**
 * Thrown when the gateway could not take the message: transport errors (connection refused, timeout,
 * HTTP 5xx) still failing after the last attempt, or a gateway status meaning "try later".
 * The message was not accepted; the caller may try again after `retryAfterMs` when given.
 */
export class SmsUnavailableError extends AppError {
  readonly code = 'SMS_UNAVAILABLE';
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Thrown when the message may have gone out although no attempt was confirmed: the gateway took a request
 * and never answered (a timeout, a connection dropped mid-call). The SMS may still arrive, so whoever pays
 * for it (a one-time code's cooldown and budget) must count it as sent; `retryAfterMs` is set by that caller.
 */
export class SmsDeliveryUnknownError extends AppError {
  readonly code = 'SMS_DELIVERY_UNKNOWN';
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Thrown at once (never retried) when the gateway refused this message for good (invalid or unknown
 * number, barred recipient, text too long …). `statusCode` is the gateway's own code.
 */
export class SmsRejectedError extends AppError {
  readonly code = 'SMS_REJECTED';
  constructor(readonly statusCode: string, message: string) {
    super(message);
  }
}

/** Thrown when the sandbox outbox is read while the real gateway is in use. */
export class SmsSandboxOnlyError extends AppError {
  readonly code = 'SMS_SANDBOX_ONLY';
  constructor() {
    super('the SMS outbox exists only with the sandbox transport');
  }
}
