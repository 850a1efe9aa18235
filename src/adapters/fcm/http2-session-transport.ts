// Transport 'http2-session': our own HTTP/2 client (h2-session-client.ts), sessions kept open across batches, one
// stream per message; firebase-admin supplies only the access token, the message validation and its error mapping.
import type http2 from 'node:http2';
import { SDK_VERSION, type App } from 'firebase-admin/app';
import { accessTokenCache } from './access-token-cache.js';
import type { BatchTransport } from './batch-transport.js';
import type { FcmMessage } from './fcm-message.js';
import { classifyFailure, type FcmOutcome } from './fcm-outcome.js';
import { H2SessionClient, type H2Response } from './h2-session-client.js';
import { errorMessage } from '../../errors/app-error.js';
import { H2TransportError } from './h2-transport-error.js';
import { firebaseMessagingInternals } from './messaging-internals.js';
import { failureOf, responseInfo } from './response-info.js';

/** firebase-admin's timeout for one FCM request (FIREBASE_MESSAGING_TIMEOUT): the default. */
const FCM_REQUEST_TIMEOUT_MS = 15_000;
const FCM_ORIGIN = 'https://fcm.googleapis.com';

/** The sender's options this transport reads (FcmSenderOptions documents each). */
export interface Http2SessionOptions {
  readonly projectId: string;
  readonly proxyUrl?: string | undefined;
  readonly maxInFlight?: number | undefined;
  readonly sessionIdleTimeoutMs?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly sessions?: number | undefined;
  readonly sessionPingIntervalMs?: number | undefined;
  readonly dialOverride?: { readonly host: string; readonly port: number } | undefined;
}

/**
 * No firebase-admin retry is involved: every failure is one outcome, as with the other transports. The message is
 * validated and transformed as Messaging.send() does, and FCM's error answers mapped by firebase-admin, so the
 * outcomes carry the same error codes the other transports see.
 */
export function createHttp2SessionTransport(app: App, options: Http2SessionOptions, ca: string[] | undefined): BatchTransport {
  const internals = firebaseMessagingInternals();
  const credential = app.options.credential;
  if (!credential) throw new Error('the firebase-admin app has no credential');
  const tokens = accessTokenCache(credential);
  // Several sessions side by side: one session's in-flight bytes are bounded by the flow-control window the server
  // grants, which through a proxy (more round-trip time) capped a thread below its CPU (bench/RESULTS.md, dispatch).
  const sessions = Math.max(1, options.sessions ?? 1);
  const perSession = Math.max(1, Math.ceil((options.maxInFlight ?? 100) / sessions));
  const clients = Array.from({ length: sessions }, () => newClient());
  let next = 0;
  function newClient(): H2SessionClient {
    return new H2SessionClient({
      origin: FCM_ORIGIN,
      ca,
      proxyUrl: options.proxyUrl,
      dialOverride: options.dialOverride,
      maxInFlight: perSession,
      requestTimeoutMs: options.requestTimeoutMs ?? FCM_REQUEST_TIMEOUT_MS,
      connectTimeoutMs: 10_000,
      idleTimeoutMs: Math.max(1, options.sessionIdleTimeoutMs ?? 600_000),
      pingIntervalMs: Math.max(0, options.sessionPingIntervalMs ?? 15_000),
    });
  }
  // The project is given explicitly (FcmSenderOptions.projectId), so firebase-admin's project lookup
  // (Messaging.getUrlPath) reduces to this.
  const path = `/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
  const fixedHeaders: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/json',
    // What firebase-admin's messaging request handler and AuthorizedHttpClient send along.
    'x-firebase-client': `fire-admin-node/${SDK_VERSION}`,
    access_token_auth: 'true',
    'x-goog-api-client': `gl-node/${process.versions.node} fire-admin/${SDK_VERSION}`,
    ...(process.env['GOOGLE_CLOUD_QUOTA_PROJECT'] ? { 'x-goog-user-project': process.env['GOOGLE_CLOUD_QUOTA_PROJECT'] } : {}),
  };

  // One headers object per access token (it changes about hourly), not one per message.
  let headersToken = '';
  let headers: http2.OutgoingHttpHeaders = fixedHeaders;
  function headersFor(token: string): http2.OutgoingHttpHeaders {
    if (token !== headersToken) {
      headersToken = token;
      headers = { ...fixedHeaders, authorization: `Bearer ${token}` };
    }
    return headers;
  }

  async function sendOne(message: FcmMessage, token: string): Promise<FcmOutcome> {
    // As Messaging.send(): validate a deep copy, which validateMessage also rewrites in place to FCM's wire form
    // (ttl "<s>s", collapse_key, …). A message it refuses never leaves the process.
    let wire: FcmMessage;
    try {
      wire = internals.deepCopy(message);
      internals.validateMessage(wire);
    } catch (error) {
      return classifyFailure(failureOf(error, undefined));
    }
    let response: H2Response;
    try {
      const client = clients[next]!;
      next = (next + 1) % clients.length;
      response = await client.request(headersFor(token), JSON.stringify({ message: wire }));
    } catch (error) {
      // No complete answer: a network outcome (retried), or TLS (fails: configuration) by its wording.
      const timeout = error instanceof H2TransportError && error.kind === 'timeout';
      return classifyFailure({ code: timeout ? 'app/network-timeout' : 'app/network-error', message: errorMessage(error) });
    }
    return outcomeOf(response);
  }

  function outcomeOf(response: H2Response): FcmOutcome {
    let data: unknown;
    try {
      data = JSON.parse(response.body);
    } catch {
      data = undefined;
    }
    const name = (data as { name?: unknown } | undefined)?.name;
    if (response.status === 200 && typeof name === 'string' && (data as { error?: unknown }).error === undefined) return { kind: 'sent', messageId: name };
    // The same shape as firebase-admin's RequestResponseError, so its own mapping and our reading of FCM's
    // details (responseInfo) apply unchanged.
    const error = {
      response: { status: response.status, headers: response.headers, data, text: response.body, isJson: () => data !== undefined },
    };
    const info = responseInfo(error);
    const firebaseError = internals.createFirebaseError(error);
    if (response.status === 401 && (firebaseError as { code?: unknown }).code === 'messaging/authentication-error') tokens.invalidate();
    return classifyFailure(failureOf(firebaseError, info));
  }

  return {
    async sendAll(messages, onAnswer) {
      let token: string;
      try {
        token = await tokens.get();
      } catch (error) {
        const outcome = classifyFailure(failureOf(error, undefined));
        return messages.map(() => outcome);
      }
      return Promise.all(messages.map((m, k) => (onAnswer ? sendOne(m, token).then((o) => onAnswer(k, o)) : sendOne(m, token))));
    },
    async warm() {
      await Promise.all([tokens.get().catch(() => undefined), ...clients.map((c) => c.preconnect())]);
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}
