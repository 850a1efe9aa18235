// What each FCM transport (http1, http2, http2-session) does with the messages of a batch the sender lets through.
import type { FcmMessage } from './fcm-message.js';
import type { FcmOutcome } from './fcm-outcome.js';

export interface BatchTransport {
  /**
   * One outcome per message, in order; never rejects for a per-message failure. `onAnswer` hears each outcome as
   * soon as it is known, and its return value is the outcome kept (http2 answers only at the end: never called).
   */
  sendAll(messages: readonly FcmMessage[], onAnswer?: (index: number, outcome: FcmOutcome) => FcmOutcome): Promise<FcmOutcome[]>;
  /** Gets ready before the first batch. Best effort: never rejects. */
  warm(): Promise<void>;
  /** Closes what the transport opened itself (the app and the agent belong to the sender). */
  close(): Promise<void>;
}
