// The product's FCM sender: firebase-admin (pinned 13.10) in one named app per sender, batches of at most 500 token
// messages answered one FcmOutcome per message, in order, over one of three transports. Plain async code (no actor).
import { cert, deleteApp, initializeApp, type App, type Credential } from 'firebase-admin/app';
import type { BatchTransport } from './batch-transport.js';
import { makeAgent, trustedCas } from './fcm-agent.js';
import { FCM_PAYLOAD_LIMIT_BYTES, payloadBytes, type FcmMessage } from './fcm-message.js';
import type { FcmOutcome } from './fcm-outcome.js';
import { createHttp1Transport } from './http1-transport.js';
import { createHttp2SessionTransport } from './http2-session-transport.js';
import { createHttp2Transport } from './http2-transport.js';

/** FCM accepts at most this many messages per batch call (sendEach); the sender keeps the same bound. */
export const FCM_MAX_BATCH = 500;

/** Anything that yields OAuth access tokens (tests: a constant token, no token call at all). */
export interface AccessTokenSource {
  getAccessToken(): Promise<{ access_token: string; expires_in: number }>;
}

export interface FcmSenderOptions {
  readonly projectId: string;
  /** Path of a service-account JSON file (its token call goes through the same agent/proxy), or a token source. */
  readonly credential: string | AccessTokenSource;
  readonly transport: FcmTransport;
  /** http://host:port of the HTTP proxy FCM is reached through (http1 and http2-session). */
  readonly proxyUrl?: string | undefined;
  /** PEM file of a CA to trust besides Node's roots (e.g. a TLS-inspecting proxy's CA; http1 and http2-session). */
  readonly extraCaFile?: string | undefined;
  /**
   * Sends in flight at once across all batches of this sender. http1: default 200. http2-session: streams on the
   * session, default 100, never more than the server's SETTINGS_MAX_CONCURRENT_STREAMS.
   */
  readonly maxInFlight?: number | undefined;
  /**
   * http2-session: close the session after this long without a send (reopened on demand). Default 10 min: pings
   * keep the tunnel alive and prove it, and an urgent send should not pay a TLS handshake through the proxy.
   */
  readonly sessionIdleTimeoutMs?: number | undefined;
  /** http2-session: one send's bound, its answer included. Default 15 s (firebase-admin's). */
  readonly requestTimeoutMs?: number | undefined;
  /** http2-session: sessions kept open side by side (messages spread over them, maxInFlight shared). Default 1. */
  readonly sessions?: number | undefined;
  /** http2-session: ping period; a ping unanswered for a period destroys the session. Default 15 s; 0: none. */
  readonly sessionPingIntervalMs?: number | undefined;
  /** http1: sockets of the keep-alive agent. Default 64. */
  readonly maxSockets?: number | undefined;
  /** firebase-admin app name (unique per process); default: derived from the project and a counter. */
  readonly appName?: string | undefined;
  /**
   * TEST SEAM ONLY (http1 and http2-session, no proxy): dial this address instead of the host asked for
   * (fcm.googleapis.com is fixed in firebase-admin), keeping the asked host as TLS servername, so the certificate
   * is still verified.
   */
  readonly dialOverride?: { readonly host: string; readonly port: number } | undefined;
}

/**
 * How messages reach FCM (FACTS.md "firebase-admin (FCM)"): 'http1' firebase-admin send() per message on keep-alive
 * sockets (http1-transport.ts), 'http2' its sendEach() (http2-transport.ts), 'http2-session' our own kept-open
 * HTTP/2 sessions (http2-session-transport.ts). Only 'http2' cannot use a proxy or an extra CA.
 */
export type FcmTransport = 'http1' | 'http2' | 'http2-session';

export interface FcmSender {
  readonly transport: FcmTransport;
  /**
   * Gets ready before the first batch (http2-session: the OAuth token and the session; the others: nothing), so
   * the first urgent send pays no token call or handshake. Best effort: never rejects.
   */
  warm(): Promise<void>;
  /**
   * One outcome per message, in order. At most FCM_MAX_BATCH messages; never rejects for a per-message failure.
   * `onAnswer` hears each message's outcome as soon as it is known (not with 'http2', whose sendEach answers at the end).
   */
  sendBatch(messages: readonly FcmMessage[], onAnswer?: (index: number, outcome: FcmOutcome) => void): Promise<FcmOutcome[]>;
  /** Deletes the firebase-admin app and closes the agent's sockets and the HTTP/2 session (http2-session). */
  close(): Promise<void>;
}

let appCounter = 0;

export function createFcmSender(options: FcmSenderOptions): FcmSender {
  if (options.transport === 'http2') {
    if (options.proxyUrl) throw new Error('FCM over HTTP/2 (sendEach) cannot use a proxy: firebase-admin dials http2.connect itself; use transport http1 or http2-session');
    if (options.extraCaFile) throw new Error('FCM over HTTP/2 (sendEach) cannot take an extra CA file: set NODE_EXTRA_CA_CERTS or use transport http1 or http2-session');
    if (options.dialOverride) throw new Error('dialOverride is for the http1 and http2-session transports (tests of http2 redirect http2.connect)');
  }
  if (options.proxyUrl && options.dialOverride) throw new Error('dialOverride and proxyUrl exclude each other (the proxy decides where to dial)');

  const ca = trustedCas(options.extraCaFile);
  // http1 sends and fetches tokens through the agent; http2-session needs it only for a service-account file's
  // token call (through the proxy when there is one); http2 (sendEach) cannot use one.
  const agent =
    options.transport === 'http1' || (options.transport === 'http2-session' && typeof options.credential === 'string')
      ? makeAgent(options, ca)
      : undefined;
  const credential: Credential = typeof options.credential === 'string' ? cert(options.credential, agent) : options.credential;
  const name = options.appName ?? `samaconso-fcm-${options.projectId}-${process.pid}-${++appCounter}`;
  const app: App = initializeApp({ credential, projectId: options.projectId, ...(agent ? { httpAgent: agent } : {}) }, name);
  let transport: BatchTransport;
  try {
    transport =
      options.transport === 'http2-session'
        ? createHttp2SessionTransport(app, options, ca)
        : options.transport === 'http1'
          ? createHttp1Transport(app, options.maxInFlight)
          : createHttp2Transport(app);
  } catch (error) {
    void deleteApp(app);
    agent?.destroy();
    throw error;
  }
  let closed = false;

  return {
    transport: options.transport,
    async sendBatch(messages, onAnswer) {
      if (closed) throw new Error('FCM sender closed');
      if (messages.length > FCM_MAX_BATCH) throw new RangeError(`at most ${FCM_MAX_BATCH} messages per batch, got ${messages.length}`);
      const outcomes: (FcmOutcome | undefined)[] = messages.map((m) => refuseBeforeSending(m));
      const toSend = messages.flatMap((m, i) => (outcomes[i] ? [] : [{ m, i }]));
      const answered = onAnswer ? (k: number, o: FcmOutcome): FcmOutcome => (onAnswer(toSend[k]!.i, o), o) : undefined;
      if (toSend.length > 0) {
        const sent = await transport.sendAll(toSend.map(({ m }) => m), answered);
        toSend.forEach(({ i }, k) => (outcomes[i] = sent[k]));
      }
      return outcomes as FcmOutcome[];
    },
    async warm() {
      if (!closed) await transport.warm();
    },
    async close() {
      if (closed) return;
      closed = true;
      await transport.close();
      await deleteApp(app);
      agent?.destroy();
    },
  };
}

/** A message FCM would refuse for its payload is failed here, without a request. */
function refuseBeforeSending(message: FcmMessage): FcmOutcome | undefined {
  const size = payloadBytes(message);
  if (size <= FCM_PAYLOAD_LIMIT_BYTES) return undefined;
  return { kind: 'fail', code: 'PAYLOAD_TOO_LARGE', alert: true, detail: `payload of ${size} bytes, FCM accepts at most ${FCM_PAYLOAD_LIMIT_BYTES}; not sent` };
}

