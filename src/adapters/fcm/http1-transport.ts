// Transport 'http1': firebase-admin's messaging.send() per message over the sender's keep-alive agent (so through
// the proxy, with the extra CA), at most maxInFlight sends at once across all batches of the sender.
import type { App } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { instrument, recordedAnswers } from './admin-instrumentation.js';
import type { BatchTransport } from './batch-transport.js';
import type { FcmMessage } from './fcm-message.js';
import { classifyFailure, type FcmOutcome } from './fcm-outcome.js';
import { failureOf, type ResponseInfo } from './response-info.js';
import { semaphore } from './semaphore.js';

/** `app` carries the agent (its httpAgent); `maxInFlight` defaults to 200. */
export function createHttp1Transport(app: App, maxInFlight: number | undefined): BatchTransport {
  const messaging = getMessaging(app);
  instrument(messaging);
  const limit = semaphore(Math.max(1, maxInFlight ?? 200));

  async function sendOne(message: FcmMessage): Promise<FcmOutcome> {
    const store = new Map<string, ResponseInfo>();
    await limit.acquire();
    try {
      const messageId = await recordedAnswers.run(store, async () => messaging.send(message));
      return { kind: 'sent', messageId };
    } catch (error) {
      return classifyFailure(failureOf(error, store.get(message.token)));
    } finally {
      limit.release();
    }
  }

  return {
    sendAll: (messages, onAnswer) => Promise.all(messages.map((m, k) => (onAnswer ? sendOne(m).then((o) => onAnswer(k, o)) : sendOne(m)))),
    warm: async () => undefined,
    close: async () => undefined,
  };
}
