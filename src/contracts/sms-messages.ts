// Messages of the SMS actor: send one text now, and (sandbox only) read what was recorded.
import type { Reply } from './reply.js';

/** How long a sender waits for the SMS actor: its retries included (3 attempts of at most 8 s, plus backoff). */
export const SMS_SEND_DEADLINE_MS = 30_000;

/** One message as the sandbox recorded it. */
export interface SentSms {
  readonly id: string;
  /** E.164, e.g. +221771234567. */
  readonly to: string;
  readonly text: string;
  /** ISO time from the injected clock. */
  readonly at: string;
}

export type SmsMessage =
  /**
   * Sends at once (no queue). Replies `{ id }` once the gateway accepted it; fails with
   * ValidationError (bad `to`/`text`), SmsRejectedError (the gateway refused it for good) or
   * SmsUnavailableError (gateway down after the retries, nothing sent) or SmsDeliveryUnknownError (an attempt
   * timed out or was cut after the gateway took it: the SMS may still arrive).
   */
  | { type: 'send'; to: string; text: string; replyTo: Reply<{ id: string }> }
  /** What the sandbox recorded, newest last, optionally for one phone; SmsSandboxOnlyError in gateway mode. */
  | { type: 'sandbox-outbox'; to?: string; replyTo: Reply<SentSms[]> };
