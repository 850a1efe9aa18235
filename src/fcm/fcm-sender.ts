// The product's FCM sender: firebase-admin (pinned 13.10) in one named app per sender, sending batches of at most
// 500 token messages and answering one FcmOutcome per message, in order. Plain async code with no actor or runtime
// dependency, so it can run inside a piscina worker thread.
//
// Transports (FACTS.md "firebase-admin (FCM)"):
//   'http1'  messaging.send() per message over a keep-alive https.Agent, with bounded concurrency (maxInFlight
//            sends at once across all batches of this sender, over at most maxSockets sockets). The only path
//            that works through an HTTP proxy (proxyUrl: an https-proxy-agent subclass, see ProxyAgentWithCa) and
//            the only one that takes an extra CA file. Also used for the OAuth token call with a service-account file.
//   'http2'  messaging.sendEach(): firebase-admin dials `http2.connect` itself, with no agent, a new session per
//            call; so no proxy and no extra CA (only NODE_EXTRA_CA_CERTS, process-wide). Asking for either with
//            'http2' is refused when the sender is created rather than silently ignored.
//
// firebase-admin's own retries: its HTTP clients retry a 503 up to 4 times (0.5, 1, 2, 4 s backoff, or Retry-After
// up to 60 s) and ECONNRESET/ETIMEDOUT likewise, holding a send slot for seconds. The public API has no switch, so
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
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { cert, deleteApp, initializeApp, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Messaging, type SendResponse } from 'firebase-admin/messaging';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { FCM_PAYLOAD_LIMIT_BYTES, payloadBytes, type FcmMessage } from './fcm-message.js';
import { classifyFailure, type FcmFailure, type FcmOutcome } from './fcm-outcome.js';

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
  readonly transport: 'http1' | 'http2';
  /** http://host:port of the HTTP proxy FCM is reached through (http1 only). */
  readonly proxyUrl?: string | undefined;
  /** PEM file of a CA to trust in addition to Node's roots (e.g. a TLS-inspecting proxy's CA; http1 only). */
  readonly extraCaFile?: string | undefined;
  /** http1: sends in flight at once across all batches of this sender. Default 200. */
  readonly maxInFlight?: number | undefined;
  /** http1: sockets of the keep-alive agent. Default 64. */
  readonly maxSockets?: number | undefined;
  /** firebase-admin app name (unique per process); default: derived from the project and a counter. */
  readonly appName?: string | undefined;
  /**
   * TEST SEAM ONLY (http1, no proxy): dial this address instead of the host asked for (fcm.googleapis.com is
   * fixed in firebase-admin), keeping the asked host as TLS servername, so the certificate is still verified.
   */
  readonly dialOverride?: { readonly host: string; readonly port: number } | undefined;
}

export interface FcmSender {
  readonly transport: 'http1' | 'http2';
  /** One outcome per message, in order. At most FCM_MAX_BATCH messages; never rejects for a per-message failure. */
  sendBatch(messages: readonly FcmMessage[]): Promise<FcmOutcome[]>;
  /** Deletes the firebase-admin app and closes the agent's sockets. */
  close(): Promise<void>;
}

/** What the sender read from FCM's HTTP answer to one message. */
type ResponseInfo = Pick<FcmFailure, 'httpStatus' | 'retryAfter' | 'fcmErrorCode' | 'violationFields'>;

/** Per batch (http2) or per message (http1): token → what FCM answered. */
const answers = new AsyncLocalStorage<Map<string, ResponseInfo>>();

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
    if (options.proxyUrl) throw new Error('FCM over HTTP/2 (sendEach) cannot use a proxy: firebase-admin dials http2.connect itself; use transport http1');
    if (options.extraCaFile) throw new Error('FCM over HTTP/2 (sendEach) cannot take an extra CA file: set NODE_EXTRA_CA_CERTS or use transport http1');
    if (options.dialOverride) throw new Error('dialOverride is for the http1 transport (tests of http2 redirect http2.connect)');
  }
  if (options.proxyUrl && options.dialOverride) throw new Error('dialOverride and proxyUrl exclude each other (the proxy decides where to dial)');

  const ca = options.extraCaFile ? [...tls.rootCertificates, readFileSync(options.extraCaFile, 'utf8')] : undefined;
  const agent = options.transport === 'http1' ? makeAgent(options, ca) : undefined;
  const credential: Credential = typeof options.credential === 'string' ? cert(options.credential, agent) : options.credential;
  const name = options.appName ?? `samaconso-fcm-${options.projectId}-${process.pid}-${++appCounter}`;
  const app: App = initializeApp({ credential, projectId: options.projectId, ...(agent ? { httpAgent: agent } : {}) }, name);
  let messaging: Messaging;
  try {
    messaging = getMessaging(app);
    instrument(messaging);
  } catch (error) {
    void deleteApp(app);
    agent?.destroy();
    throw error;
  }

  const limit = semaphore(Math.max(1, options.maxInFlight ?? 200));
  let closed = false;

  async function sendOne(message: FcmMessage): Promise<FcmOutcome> {
    const store = new Map<string, ResponseInfo>();
    await limit.acquire();
    try {
      const messageId = await answers.run(store, async () => messaging.send(message));
      return { kind: 'sent', messageId };
    } catch (error) {
      return classifyFailure(failureOf(error, store.get(message.token)));
    } finally {
      limit.release();
    }
  }

  async function sendEachHttp2(messages: FcmMessage[]): Promise<FcmOutcome[]> {
    const store = new Map<string, ResponseInfo>();
    let responses: SendResponse[];
    try {
      const batch = await answers.run(store, async () => messaging.sendEach(messages));
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
    async sendBatch(messages) {
      if (closed) throw new Error('FCM sender closed');
      if (messages.length > FCM_MAX_BATCH) throw new RangeError(`at most ${FCM_MAX_BATCH} messages per batch, got ${messages.length}`);
      const outcomes: (FcmOutcome | undefined)[] = messages.map((m) => refuseBeforeSending(m));
      const toSend = messages.flatMap((m, i) => (outcomes[i] ? [] : [{ m, i }]));
      if (toSend.length > 0) {
        const sent =
          options.transport === 'http1'
            ? await Promise.all(toSend.map(({ m }) => sendOne(m)))
            : await sendEachHttp2(toSend.map(({ m }) => m));
        toSend.forEach(({ i }, k) => (outcomes[i] = sent[k]));
      }
      return outcomes as FcmOutcome[];
    },
    async close() {
      if (closed) return;
      closed = true;
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

/** https-proxy-agent 9 applies its constructor's TLS options to the proxy connection only; this adds `ca` for the target. */
class ProxyAgentWithCa extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly targetCa: string[] | undefined,
    agentOptions: http.AgentOptions,
  ) {
    super(proxy, { ...agentOptions, ...(targetCa ? { ca: targetCa } : {}) });
  }

  override connect(req: ConnectArgs[0], opts: ConnectArgs[1]): ReturnType<HttpsProxyAgent<string>['connect']> {
    return super.connect(req, this.targetCa ? Object.assign(opts, { ca: this.targetCa }) : opts);
  }
}

function makeAgent(options: FcmSenderOptions, ca: string[] | undefined): https.Agent | HttpsProxyAgent<string> {
  const agentOptions = { keepAlive: true, maxSockets: Math.max(1, options.maxSockets ?? 64) };
  if (options.proxyUrl) return new ProxyAgentWithCa(options.proxyUrl, ca, agentOptions);
  const agent = new https.Agent({ ...agentOptions, ...(ca ? { ca } : {}) });
  const dial = options.dialOverride;
  if (dial) {
    (agent as unknown as { createConnection: (o: tls.ConnectionOptions) => Duplex }).createConnection = (o) =>
      tls.connect({ ...o, host: dial.host, port: dial.port, servername: o.servername ?? o.host ?? undefined });
  }
  return agent;
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
      throw new Error(`firebase-admin internals changed: messagingRequestHandler.${field} not found; review src/fcm/fcm-sender.ts`);
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
