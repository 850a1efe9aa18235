// Transport 'http2': firebase-admin's messaging.sendEach(), which dials http2.connect itself, a new session per
// call and no agent: no proxy, no extra CA (only NODE_EXTRA_CA_CERTS, process-wide), every answer at the end.
import type { App } from 'firebase-admin/app';
import { getMessaging, type SendResponse } from 'firebase-admin/messaging';
import { instrument, recordedAnswers } from './admin-instrumentation.js';
import type { BatchTransport } from './batch-transport.js';
import type { FcmMessage } from './fcm-message.js';
import { classifyFailure, type FcmOutcome } from './fcm-outcome.js';
import { failureOf, type ResponseInfo } from './response-info.js';

export function createHttp2Transport(app: App): BatchTransport {
  const messaging = getMessaging(app);
  instrument(messaging);

  async function sendEach(messages: FcmMessage[]): Promise<FcmOutcome[]> {
    const store = new Map<string, ResponseInfo>();
    let responses: SendResponse[];
    try {
      const batch = await recordedAnswers.run(store, async () => messaging.sendEach(messages));
      responses = batch.responses;
    } catch (error) {
      // A session error: what had been answered before it is in pendingBatchResponse; the rest share the error.
      const pending = (error as { pendingBatchResponse?: Promise<{ responses: SendResponse[] }> }).pendingBatchResponse;
      const partial = pending ? await pending.then((b) => b.responses, () => undefined) : undefined;
      return messages.map((m, i) => {
        const response = partial?.[i];
        if (response) return toOutcome(response, store.get(m.token));
        return classifyFailure(failureOf(error, store.get(m.token)));
      });
    }
    return messages.map((m, i) => {
      const response = responses[i];
      return response ? toOutcome(response, store.get(m.token)) : classifyFailure({ message: 'no response for this message' });
    });
  }

  return {
    // sendEach answers all at once: there is nothing to tell before the batch's result.
    sendAll: (messages) => sendEach([...messages]),
    warm: async () => undefined,
    close: async () => undefined,
  };
}

function toOutcome(response: SendResponse, info: ResponseInfo | undefined): FcmOutcome {
  if (response.success) return response.messageId !== undefined ? { kind: 'sent', messageId: response.messageId } : { kind: 'sent' };
  return classifyFailure(failureOf(response.error, info));
}
