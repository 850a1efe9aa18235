// Private-field instrumentation of firebase-admin 13.10's messaging HTTP clients (http1, http2): bounds its own
// retries and records FCM's answer per token, which its errors do not carry.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Messaging } from 'firebase-admin/messaging';
import { responseInfo, type ResponseInfo } from './response-info.js';

/**
 * token → what FCM answered, per batch (http2) or per message (http1): the sender runs each send inside its own
 * scope, so concurrent batches never see each other's answers.
 */
export const recordedAnswers = new AsyncLocalStorage<Map<string, ResponseInfo>>();

// firebase-admin's HTTP clients retry a 503 up to 4 times (0.5, 1, 2, 4 s backoff, or Retry-After up to 60 s) and
// ECONNRESET/ETIMEDOUT likewise, holding a send slot for seconds; its public API has no switch. Here no status code
// is retried and a connection reset once, at once (a keep-alive socket closed by the server between requests):
// 503/500/429 come back as 'retry' outcomes and go through our retry queues.
/** The retry config put on firebase-admin's messaging HTTP clients (its RetryConfig shape). */
const SENDER_RETRY_CONFIG = {
  maxRetries: 1,
  statusCodes: [] as number[],
  ioErrorCodes: ['ECONNRESET'],
  backOffFactor: 0,
  maxDelayInMillis: 0,
};

interface RequestClientInternals {
  retry?: unknown;
  send(request: { data?: unknown }): Promise<unknown>;
}

/**
 * Bounds firebase-admin's own retries and records FCM's status and Retry-After per token in recordedAnswers.
 * The fields are private (FirebaseMessagingRequestHandler's two clients), checked here: a firebase-admin upgrade
 * that moves them fails loudly when the sender is created, and in the tests.
 */
export function instrument(messaging: Messaging): void {
  const handler = (messaging as unknown as { messagingRequestHandler?: Record<string, unknown> }).messagingRequestHandler;
  for (const field of ['httpClient', 'http2Client'] as const) {
    const client = handler?.[field] as RequestClientInternals | undefined;
    if (!client || typeof client.send !== 'function' || !('retry' in client)) {
      throw new Error(`firebase-admin internals changed: messagingRequestHandler.${field} not found; review src/adapters/fcm/admin-instrumentation.ts`);
    }
    client.retry = { ...SENDER_RETRY_CONFIG, statusCodes: [...SENDER_RETRY_CONFIG.statusCodes], ioErrorCodes: [...SENDER_RETRY_CONFIG.ioErrorCodes] };
    const original = client.send.bind(client);
    client.send = (request) =>
      original(request).catch((error: unknown) => {
        const store = recordedAnswers.getStore();
        const token = (request.data as { message?: { token?: unknown } } | undefined)?.message?.token;
        if (store && typeof token === 'string') {
          const info = responseInfo(error);
          if (info) store.set(token, info);
        }
        throw error;
      });
  }
}
