// The product's FCM sender: firebase-admin (pinned 13.10) in one named app per sender, sending batches of at most
// 500 token messages and answering one FcmOutcome per message, in order. Plain async code with no actor or runtime
// dependency, so it can run inside a piscina worker thread.
//
// Transports (FACTS.md "firebase-admin (FCM)"):
//   'http1'  messaging.send() per message over a keep-alive https.Agent, with bounded concurrency (maxInFlight
//            sends at once across all batches of this sender, over at most maxSockets sockets). Works through an
//            HTTP proxy (proxyUrl: an https-proxy-agent subclass, see ProxyAgentWithCa) and takes an extra CA file.
//            Its agent also carries the OAuth token call with a service-account file (for http2-session too).
//   'http2'  messaging.sendEach(): firebase-admin dials `http2.connect` itself, with no agent, a new session per
//            call; so no proxy and no extra CA (only NODE_EXTRA_CA_CERTS, process-wide). Asking for either with
//            'http2' is refused when the sender is created rather than silently ignored.
//   'http2-session'  our own HTTP/2 client (h2-session-client.ts): ONE session kept open across batches, one stream
//            per message, bounded streams in flight, reconnect on GOAWAY/error; through the proxy it opens the
//            CONNECT tunnel itself and takes the extra CA. firebase-admin still supplies the access token (the app's
//            credential, cached here until 5 minutes before expiry) and the message validation and wire
//            transformation (its internal validateMessage, see firebaseMessagingInternals), and its error mapping
//            (createFirebaseError) turns FCM's answers into the same error codes the other transports see. No
//            firebase-admin retry is involved: every failure is one outcome, as with the other transports.
//
// firebase-admin's own retries (http1, http2): its HTTP clients retry a 503 up to 4 times (0.5, 1, 2, 4 s backoff,
// or Retry-After up to 60 s) and ECONNRESET/ETIMEDOUT likewise, holding a send slot for seconds. The public API has no switch, so
// the sender replaces the `retry` config of the app's two messaging HTTP clients (private fields of
// FirebaseMessagingRequestHandler, checked at creation: a firebase-admin upgrade that moves them fails loudly here
// and in the tests): no status code is retried, a connection reset is retried once, at once (a keep-alive socket
// closed by the server between requests). 503/500/429 come back as 'retry' outcomes and go through our retry queues.
//
// firebase-admin's errors carry no HTTP status and no Retry-After; the sender wraps the same clients' send() to
// read them from FCM's answer (status, Retry-After, FcmError code, BadRequest fields) and keys what it read by
// token inside an AsyncLocalStorage scope of the batch, so concurrent batches never see each other's answers.
//
// TLS verification is never turned off: an extra CA is added to Node's root certificates, not put in their place.
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type http2 from 'node:http2';
import https from 'node:https';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { cert, deleteApp, initializeApp, SDK_VERSION, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Messaging, type SendResponse } from 'firebase-admin/messaging';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { FCM_PAYLOAD_LIMIT_BYTES, payloadBytes, type FcmMessage } from './fcm-message.js';
import { classifyFailure, type FcmFailure, type FcmOutcome } from './fcm-outcome.js';
import { H2SessionClient, H2TransportError, type H2Response } from './h2-session-client.js';

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

/** What the sender read from FCM's HTTP answer to one message. */
type ResponseInfo = Pick<FcmFailure, 'httpStatus' | 'retryAfter' | 'fcmErrorCode' | 'violationFields'>;

/** Per batch (http2) or per message (http1): token → what FCM answered. */
const answers = new AsyncLocalStorage<Map<string, ResponseInfo>>();

/** firebase-admin's timeout for one FCM request (FIREBASE_MESSAGING_TIMEOUT), used by http2-session too. */
const FCM_REQUEST_TIMEOUT_MS = 15_000;
const FCM_ORIGIN = 'https://fcm.googleapis.com';
/** A cached access token is renewed this long before it expires (firebase-admin's own margin). */
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** The retry config put on firebase-admin's messaging HTTP clients (its RetryConfig shape). */
const SENDER_RETRY_CONFIG = {
  maxRetries: 1,
  statusCodes: [] as number[],
  ioErrorCodes: ['ECONNRESET'],
  backOffFactor: 0,
  maxDelayInMillis: 0,
};

let appCounter = 0;

export function createFcmSender(options: FcmSenderOptions): FcmSender {
  if (options.transport === 'http2') {
    if (options.proxyUrl) throw new Error('FCM over HTTP/2 (sendEach) cannot use a proxy: firebase-admin dials http2.connect itself; use transport http1 or http2-session');
    if (options.extraCaFile) throw new Error('FCM over HTTP/2 (sendEach) cannot take an extra CA file: set NODE_EXTRA_CA_CERTS or use transport http1 or http2-session');
    if (options.dialOverride) throw new Error('dialOverride is for the http1 and http2-session transports (tests of http2 redirect http2.connect)');
  }
  if (options.proxyUrl && options.dialOverride) throw new Error('dialOverride and proxyUrl exclude each other (the proxy decides where to dial)');

  const ca = options.extraCaFile ? [...tls.rootCertificates, readFileSync(options.extraCaFile, 'utf8')] : undefined;
  // http1 sends and fetches tokens through the agent; http2-session needs it only for a service-account file's
  // token call (through the proxy when there is one); http2 (sendEach) cannot use one.
  const agent =
    options.transport === 'http1' || (options.transport === 'http2-session' && typeof options.credential === 'string')
      ? makeAgent(options, ca)
      : undefined;
  const credential: Credential = typeof options.credential === 'string' ? cert(options.credential, agent) : options.credential;
  const name = options.appName ?? `samaconso-fcm-${options.projectId}-${process.pid}-${++appCounter}`;
  const app: App = initializeApp({ credential, projectId: options.projectId, ...(agent ? { httpAgent: agent } : {}) }, name);
  let messaging: Messaging | undefined;
  let session: SessionTransport | undefined;
  try {
    if (options.transport === 'http2-session') {
      session = createSessionTransport(app, options, ca);
    } else {
      messaging = getMessaging(app);
      instrument(messaging);
    }
  } catch (error) {
    void deleteApp(app);
    agent?.destroy();
    throw error;
  }

  const limit = semaphore(Math.max(1, options.maxInFlight ?? 200));
  let closed = false;

  async function sendOne(message: FcmMessage): Promise<FcmOutcome> {
    if (!messaging) throw new Error('firebase-admin messaging is not set up for this transport');
    const store = new Map<string, ResponseInfo>();
    await limit.acquire();
    try {
      const sending = messaging;
      const messageId = await answers.run(store, async () => sending.send(message));
      return { kind: 'sent', messageId };
    } catch (error) {
      return classifyFailure(failureOf(error, store.get(message.token)));
    } finally {
      limit.release();
    }
  }

  async function sendEachHttp2(messages: FcmMessage[]): Promise<FcmOutcome[]> {
    if (!messaging) throw new Error('firebase-admin messaging is not set up for this transport');
    const messagingHttp2 = messaging;
    const store = new Map<string, ResponseInfo>();
    let responses: SendResponse[];
    try {
      const batch = await answers.run(store, async () => messagingHttp2.sendEach(messages));
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
    transport: options.transport,
    async sendBatch(messages, onAnswer) {
      if (closed) throw new Error('FCM sender closed');
      if (messages.length > FCM_MAX_BATCH) throw new RangeError(`at most ${FCM_MAX_BATCH} messages per batch, got ${messages.length}`);
      const outcomes: (FcmOutcome | undefined)[] = messages.map((m) => refuseBeforeSending(m));
      const toSend = messages.flatMap((m, i) => (outcomes[i] ? [] : [{ m, i }]));
      const answered = onAnswer ? (k: number, o: FcmOutcome): FcmOutcome => (onAnswer(toSend[k]!.i, o), o) : undefined;
      if (toSend.length > 0) {
        const sent = session
          ? await session.sendAll(
              toSend.map(({ m }) => m),
              answered,
            )
          : options.transport === 'http1'
            ? await Promise.all(toSend.map(({ m }, k) => (answered ? sendOne(m).then((o) => answered(k, o)) : sendOne(m))))
            : await sendEachHttp2(toSend.map(({ m }) => m));
        toSend.forEach(({ i }, k) => (outcomes[i] = sent[k]));
      }
      return outcomes as FcmOutcome[];
    },
    async warm() {
      if (!closed) await session?.warm();
    },
    async close() {
      if (closed) return;
      closed = true;
      await session?.close();
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

function toOutcome(response: SendResponse, info: ResponseInfo | undefined): FcmOutcome {
  if (response.success) return response.messageId !== undefined ? { kind: 'sent', messageId: response.messageId } : { kind: 'sent' };
  return classifyFailure(failureOf(response.error, info));
}

function failureOf(error: unknown, info: ResponseInfo | undefined): FcmFailure {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : String(error),
    ...info,
  };
}

// ---- the agent (http1) ----

type ConnectArgs = Parameters<HttpsProxyAgent<string>['connect']>;

// The extra CA goes to the agents as a secure context built once, not as a `ca` option: Node's https.Agent (and
// agent-base, which calls it) puts `options.ca` into the pool key it computes several times per request, i.e.
// joins all ~140 root certificates into a ~220 kB string each time, ~0.12 ms of CPU per call (measured by
// bench/fcm-transports.ts: a 'http1' send cost ~0.5 ms of CPU with `ca`). A secure context is not part of the key,
// and the trust list is parsed once instead of on every new socket. Verification is unchanged: the context holds
// the roots plus the extra CA, rejectUnauthorized keeps its default.

/** https-proxy-agent 9 applies its constructor's TLS options to the proxy connection only; this adds the target's. */
class ProxyAgentWithCa extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly targetContext: tls.SecureContext | undefined,
    agentOptions: http.AgentOptions,
  ) {
    super(proxy, { ...agentOptions, ...(targetContext ? { secureContext: targetContext } : {}) });
  }

  /**
   * Everything this agent carries is HTTPS (FCM, the OAuth token endpoint). agent-base otherwise decides per call,
   * for options without `protocol` (Node's pool calls getName with such options on every request), by capturing
   * and scanning a stack trace: ~80 µs of CPU per send measured (more with source maps on).
   */
  override isSecureEndpoint(): boolean {
    return true;
  }

  override connect(req: ConnectArgs[0], opts: ConnectArgs[1]): ReturnType<HttpsProxyAgent<string>['connect']> {
    // A copy: the pool keeps `opts` and keys the socket by it.
    return super.connect(req, this.targetContext ? ({ ...opts, secureContext: this.targetContext } as ConnectArgs[1]) : opts);
  }
}

function makeAgent(options: FcmSenderOptions, ca: string[] | undefined): https.Agent | HttpsProxyAgent<string> {
  const agentOptions = { keepAlive: true, maxSockets: Math.max(1, options.maxSockets ?? 64) };
  const secureContext = ca ? tls.createSecureContext({ ca }) : undefined;
  if (options.proxyUrl) return new ProxyAgentWithCa(options.proxyUrl, secureContext, agentOptions);
  const agent = new https.Agent({ ...agentOptions, ...(secureContext ? { secureContext } : {}) });
  const dial = options.dialOverride;
  if (dial) {
    (agent as unknown as { createConnection: (o: tls.ConnectionOptions) => Duplex }).createConnection = (o) =>
      tls.connect({ ...o, host: dial.host, port: dial.port, servername: o.servername ?? o.host ?? undefined });
  }
  return agent;
}

// ---- the kept-open HTTP/2 session (http2-session) ----

interface SessionTransport {
  sendAll(messages: readonly FcmMessage[], onAnswer?: (index: number, outcome: FcmOutcome) => FcmOutcome): Promise<FcmOutcome[]>;
  warm(): Promise<void>;
  close(): Promise<void>;
}

function createSessionTransport(app: App, options: FcmSenderOptions, ca: string[] | undefined): SessionTransport {
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
      requestTimeoutMs: FCM_REQUEST_TIMEOUT_MS,
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
      return classifyFailure({ code: timeout ? 'app/network-timeout' : 'app/network-error', message: error instanceof Error ? error.message : String(error) });
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

/** The credential's access token, fetched once and shared until TOKEN_REFRESH_MARGIN_MS before it expires. */
function accessTokenCache(credential: Credential): { get(): Promise<string>; invalidate(): void } {
  let cached: { token: string; renewAt: number } | undefined;
  let fetching: Promise<string> | undefined;
  return {
    get() {
      if (cached && Date.now() < cached.renewAt) return Promise.resolve(cached.token);
      fetching ??= credential
        .getAccessToken()
        .then((t) => {
          if (typeof t?.access_token !== 'string' || t.access_token.length === 0) throw new Error('the credential returned no access token');
          const lifetimeMs = Math.max(0, Number(t.expires_in) * 1000 || 0);
          // Short-lived tokens (tests) are renewed half-way rather than at once.
          cached = { token: t.access_token, renewAt: Date.now() + Math.max(lifetimeMs - TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2) };
          return t.access_token;
        })
        .finally(() => {
          fetching = undefined;
        });
      return fetching;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

interface FirebaseMessagingInternals {
  /** Throws firebase-admin's FirebaseMessagingError for an invalid message; rewrites a valid one to wire form. */
  validateMessage(message: object): void;
  /** firebase-admin's mapping of an FCM error answer (RequestResponseError shape) to a FirebaseMessagingError. */
  createFirebaseError(error: { response: { status: number; data: unknown; text: string; isJson(): boolean } }): Error;
  deepCopy<T>(value: T): T;
}

let messagingInternals: FirebaseMessagingInternals | undefined;

/**
 * firebase-admin 13.10's validateMessage, createFirebaseError and deepCopy: what Messaging.send() runs before and
 * after its request. They are not public, and the package's `exports` map refuses deep imports
 * (`firebase-admin/lib/messaging/messaging-internal.js` → ERR_PACKAGE_PATH_NOT_EXPORTED); its public API has no
 * validate-only call that does not send. So the files are loaded by path next to the public entry point
 * (require.resolve('firebase-admin/messaging') → lib/messaging/index.js): the same CommonJS module instances the
 * public API uses (its ESM entry re-exports the CommonJS build), so errors are the same FirebaseMessagingError
 * class. The version is pinned; a change that moves them fails here when the sender is created, and in the tests.
 */
function firebaseMessagingInternals(): FirebaseMessagingInternals {
  if (messagingInternals) return messagingInternals;
  const require = createRequire(import.meta.url);
  const messagingDir = dirname(require.resolve('firebase-admin/messaging'));
  const load = (file: string, fn: string): ((...args: never[]) => unknown) => {
    const exported = (require(join(messagingDir, file)) as Record<string, unknown>)[fn];
    if (typeof exported !== 'function') throw new Error(`firebase-admin internals changed: ${fn} not found in ${file}; review src/adapters/fcm/fcm-sender.ts`);
    return exported as (...args: never[]) => unknown;
  };
  messagingInternals = {
    validateMessage: load('messaging-internal.js', 'validateMessage') as FirebaseMessagingInternals['validateMessage'],
    createFirebaseError: load('messaging-errors-internal.js', 'createFirebaseError') as FirebaseMessagingInternals['createFirebaseError'],
    deepCopy: load('../utils/deep-copy.js', 'deepCopy') as FirebaseMessagingInternals['deepCopy'],
  };
  return messagingInternals;
}

// ---- firebase-admin internals (pinned 13.10.0) ----

interface RequestClientInternals {
  retry?: unknown;
  send(request: { data?: unknown }): Promise<unknown>;
}

/** Bounds firebase-admin's own retries and records FCM's status and Retry-After per token (see the header). */
function instrument(messaging: Messaging): void {
  const handler = (messaging as unknown as { messagingRequestHandler?: Record<string, unknown> }).messagingRequestHandler;
  for (const field of ['httpClient', 'http2Client'] as const) {
    const client = handler?.[field] as RequestClientInternals | undefined;
    if (!client || typeof client.send !== 'function' || !('retry' in client)) {
      throw new Error(`firebase-admin internals changed: messagingRequestHandler.${field} not found; review src/adapters/fcm/fcm-sender.ts`);
    }
    client.retry = { ...SENDER_RETRY_CONFIG, statusCodes: [...SENDER_RETRY_CONFIG.statusCodes], ioErrorCodes: [...SENDER_RETRY_CONFIG.ioErrorCodes] };
    const original = client.send.bind(client);
    client.send = (request) =>
      original(request).catch((error: unknown) => {
        const store = answers.getStore();
        const token = (request.data as { message?: { token?: unknown } } | undefined)?.message?.token;
        if (store && typeof token === 'string') {
          const info = responseInfo(error);
          if (info) store.set(token, info);
        }
        throw error;
      });
  }
}

function responseInfo(error: unknown): ResponseInfo | undefined {
  const response = (error as { response?: { status?: unknown; headers?: Record<string, unknown>; isJson?: () => boolean; data?: unknown } }).response;
  if (!response) return undefined;
  const header = response.headers?.['retry-after'];
  const info: { -readonly [K in keyof ResponseInfo]: ResponseInfo[K] } = {
    httpStatus: typeof response.status === 'number' ? response.status : undefined,
    retryAfter: typeof header === 'string' ? header : Array.isArray(header) && typeof header[0] === 'string' ? header[0] : undefined,
  };
  try {
    if (response.isJson?.()) {
      const details = (response.data as { error?: { details?: unknown } } | undefined)?.error?.details;
      if (Array.isArray(details)) {
        for (const d of details as Array<Record<string, unknown>>) {
          if (d['@type'] === 'type.googleapis.com/google.firebase.fcm.v1.FcmError' && typeof d['errorCode'] === 'string') info.fcmErrorCode = d['errorCode'];
          if (d['@type'] === 'type.googleapis.com/google.rpc.BadRequest' && Array.isArray(d['fieldViolations'])) {
            info.violationFields = (d['fieldViolations'] as Array<{ field?: unknown }>).flatMap((v) => (typeof v.field === 'string' ? [v.field] : []));
          }
        }
      }
    }
  } catch {
    // a body that is not JSON: status and header are enough
  }
  return info;
}

function semaphore(size: number): { acquire(): Promise<void>; release(): void } {
  let free = size;
  const waiting: Array<() => void> = [];
  return {
    acquire() {
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}
