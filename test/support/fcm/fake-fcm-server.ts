// A fake FCM HTTP v1 endpoint for tests and benchmarks: HTTPS (test CA) on 127.0.0.1, HTTP/1.1 and HTTP/2 on
// one port, scripted per-token outcomes, injected latency on timers, and its own count of every message.
//
// Two counts, on purpose: a send is *received* when its body has been read and parsed (authorised, a JSON body),
// before any answer is written and whatever the scripted outcome — real FCM has then taken the message, and a
// client killed before the answer reached it will send it again, so duplicates are counted from requests received
// (`duplicates()`: Σ per token of max(0, received − 1)), never from 200s written. A send is *delivered* only once
// its 200 is written (`deliveredTo`, `stats().delivered`). `hold()` keeps answers back (requests are received and
// counted, nothing is written) until `release()`, so a test can prove requests are open at the moment it kills,
// stops or restarts something; a request whose stream or connection is destroyed while held or in its latency is
// counted in `stats().cutOff` (received, never delivered, never answered) and never throws here.
//
//   POST /v1/projects/{project}/messages:send   → 200 { name: "projects/{project}/messages/<n>" } or FCM's error body
//   POST /token                                 → an OAuth token (only if a test uses real credentials), one per
//                                                  service account (the assertion's `iss`), so each send's bearer
//                                                  token says which credential sent it (`Receipt.client`)
//
// firebase-admin's HTTP/2 client sends `:scheme: "https:"`, which Node's HTTP/2 server (nghttp2) resets with
// PROTOCOL_ERROR before any JS sees the stream; nothing here can normalise it. Clients of the HTTP/2 path must go
// through redirectFcmHttp2() (./redirect-http2.ts), which normalises the header on the client side.
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { testCa } from './test-ca.js';

export type FcmErrorCode =
  | 'UNREGISTERED'
  | 'INVALID_ARGUMENT'
  | 'SENDER_ID_MISMATCH'
  | 'QUOTA_EXCEEDED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'THIRD_PARTY_AUTH_ERROR';

/** 'ok', an FCM error code, or an error with an explicit Retry-After (seconds) on its response. */
export type FcmOutcome = 'ok' | FcmErrorCode | { error: FcmErrorCode; retryAfterSeconds?: number };

export interface OutcomeQuery {
  token: string | undefined;
  /** 1 for the first request seen for this token, 2 for the next (a client retry), … */
  attempt: number;
  message: FcmMessage;
}

export type OutcomeScript = Record<string, FcmOutcome> | ((query: OutcomeQuery) => FcmOutcome);

/** The v1 `message` object, loosely typed (what the fake reads from it). */
export interface FcmMessage {
  token?: string;
  topic?: string;
  condition?: string;
  data?: Record<string, string>;
  notification?: Record<string, unknown>;
  android?: { priority?: string; ttl?: string; collapse_key?: string; [key: string]: unknown };
  apns?: { headers?: Record<string, string>; payload?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ReceivedMessage {
  project: string;
  token: string | undefined;
  attempt: number;
  outcome: 'ok' | FcmErrorCode;
  status: number;
  httpVersion: string;
  validateOnly: boolean;
  /** android.priority ('high' | 'normal' | undefined) */
  androidPriority: string | undefined;
  /** apns.headers['apns-priority'] ('10' | '5' | undefined) */
  apnsPriority: string | undefined;
  collapseKey: string | undefined;
  data: Record<string, string> | undefined;
  message: FcmMessage;
  /** performance.now() when the response was sent */
  at: number;
}

/** One send request as it was received (before its answer), in order of receipt. */
export interface Receipt {
  token: string;
  /** The message's `data.job_id` (what buildFcmMessage puts there; `data.jobId` if a client used that name). */
  jobId: string | undefined;
  /** performance.now() when the request's body had been read */
  at: number;
  /** The service account (client_email) whose access token, issued by this fake's /token, the request carried. */
  client: string | undefined;
}

export interface FakeFcmOptions {
  /** Outcome per token (map: missing tokens are 'ok'), or a function of token and attempt. Default: all 'ok'. */
  outcomes?: OutcomeScript;
  /** Delay before each answer, in ms (constant or per message). Timers, not busy-waits. Default 0. */
  latencyMs?: number | ((message: FcmMessage) => number);
  /** Retry-After (seconds) on QUOTA_EXCEEDED answers unless the outcome names one. Default 60. */
  quotaRetryAfterSeconds?: number;
  /**
   * 'all' keeps every ReceivedMessage and every Receipt (tests); 'counts' keeps only counters — per token and in
   * all, including `receivedTokens()` and `duplicates()` — but no record and no receipt (benchmarks, bounded
   * memory: `received` and `receipts()` stay empty).
   */
  record?: 'all' | 'counts';
  /** Require `Authorization: Bearer …` on sends (401 UNAUTHENTICATED otherwise). Default true. */
  requireAuth?: boolean;
  /** Port to listen on (default 0: the OS picks). */
  port?: number;
  /**
   * HTTP/2 flow-control windows the fake grants its clients (stream and connection), in bytes. Node's server
   * defaults to 64 KiB, which caps what one client session can have in flight (~100 sends of ~600 bytes per
   * round trip); default: Node's.
   */
  h2WindowBytes?: number;
}

export interface FakeFcmStats {
  /** every send request received (body read, before its answer; any outcome, retries included) */
  received: number;
  /** every send request answered (any outcome, retries included) */
  requests: number;
  /** sends received whose stream or connection was gone when their answer was due (never answered) */
  cutOff: number;
  /** sends answered 200 */
  delivered: number;
  /** sends answered with an error */
  failed: number;
  byOutcome: Record<string, number>;
  byHttpVersion: Record<string, number>;
  oauthTokens: number;
  /** requests that were not a send or a token call (404) */
  unknownRequests: number;
  /** TLS connections accepted */
  connections: number;
  /** HTTP/2 sessions started (a subset of connections) */
  sessions: number;
}

export interface FakeFcm {
  readonly host: string;
  readonly port: number;
  /** https://127.0.0.1:PORT */
  readonly origin: string;
  /** PEM of the CA that signed the server certificate. */
  readonly ca: string;
  /** Path of that CA's PEM file (NODE_EXTRA_CA_CERTS for child processes). */
  readonly caFile: string;
  /** Every send received, in answer order (empty with record: 'counts'). */
  readonly received: readonly ReceivedMessage[];
  stats(): FakeFcmStats;
  /** Sends answered 200 for this token. */
  deliveredTo(token: string): number;
  /** Send requests seen for this token (any outcome). */
  attemptsFor(token: string): number;
  /** Send requests received for this token: counted when the body has been read, before any answer, any outcome. */
  requestsReceived(token: string): number;
  /** Token → send requests received (a snapshot). */
  receivedTokens(): ReadonlyMap<string, number>;
  /** Duplicates are requests received per token beyond the first: Σ over tokens of max(0, received − 1). */
  duplicates(): number;
  /** Every send request received, in order of receipt, with its job id and time (empty with record: 'counts'). */
  receipts(): readonly Receipt[];
  /**
   * From now on requests are received (counted) but their answers are not written until release(). A request
   * still waiting out its latency is held too once that ends (if holding is still on then).
   */
  hold(): void;
  /**
   * Writes the answers of the `count` oldest held requests (all when omitted; each at once, no latency) and, once
   * no held request is left, stops holding. Returns how many answers were written (a held request whose stream
   * was destroyed is dropped, not counted).
   */
  release(count?: number): number;
  /** Send requests received and not answered now: held, or waiting out their latency. */
  held(): number;
  /** Tokens answered 200 at least once. */
  deliveredTokens(): Set<string>;
  /**
   * Resolves once `count` sends were answered 200 (of: 'delivered', the default), answered at all ('requests') or
   * received ('received': body read, answered or not).
   */
  waitFor(count: number, options?: { of?: 'delivered' | 'requests' | 'received'; timeoutMs?: number }): Promise<void>;
  setOutcomes(outcomes: OutcomeScript | undefined): void;
  setLatency(latencyMs: FakeFcmOptions['latencyMs']): void;
  /**
   * Ends every open HTTP/2 session: 'goaway' sends GOAWAY and lets the streams already started finish (a server
   * draining for a restart); 'destroy' drops the connections at once (a crash, a proxy cutting the tunnel).
   */
  endSessions(how: 'goaway' | 'destroy'): number;
  /** HTTP/2 sessions open now. */
  openSessions(): number;
  /**
   * Forget everything received (counters, records, attempts, receipts); keeps outcomes and latency. Requests held
   * or in their latency stay open and are still answered (and then counted) later; holding goes on if it was on.
   */
  reset(): void;
  /** Stops listening and destroys open connections. */
  close(): Promise<void>;
}

const STATUS: Record<FcmErrorCode, { code: number; status: string; message: string }> = {
  UNREGISTERED: { code: 404, status: 'NOT_FOUND', message: 'Requested entity was not found.' },
  INVALID_ARGUMENT: {
    code: 400,
    status: 'INVALID_ARGUMENT',
    message: 'The registration token is not a valid FCM registration token',
  },
  SENDER_ID_MISMATCH: { code: 403, status: 'PERMISSION_DENIED', message: 'SenderId mismatch' },
  QUOTA_EXCEEDED: {
    code: 429,
    status: 'RESOURCE_EXHAUSTED',
    message: 'Quota exceeded for quota metric of service firebasecloudmessaging.googleapis.com',
  },
  UNAVAILABLE: { code: 503, status: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  INTERNAL: { code: 500, status: 'INTERNAL', message: 'Internal error encountered.' },
  THIRD_PARTY_AUTH_ERROR: { code: 401, status: 'UNAUTHENTICATED', message: 'Auth error from APNS or Web Push Service' },
};

const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

export async function startFakeFcm(options: FakeFcmOptions = {}): Promise<FakeFcm> {
  const ca = await testCa();
  let outcomes = options.outcomes;
  let latency = options.latencyMs;
  const record = options.record ?? 'all';
  const requireAuth = options.requireAuth ?? true;
  const quotaRetryAfter = options.quotaRetryAfterSeconds ?? 60;

  const received: ReceivedMessage[] = [];
  const receipts: Receipt[] = [];
  /** Access tokens this fake issued, by the service account they were issued to. */
  const tokenOwners = new Map<string, string>();
  const attempts = new Map<string, number>();
  const delivered = new Map<string, number>();
  let stats = emptyStats();
  let messageSeq = 0;
  let waiters: { check: () => boolean; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  /** Requests received and not answered yet (held or in latency), and those held, oldest first. */
  const open = new Set<OpenRequest>();
  let heldQueue: OpenRequest[] = [];
  let holding = false;

  const window = options.h2WindowBytes;
  const server = http2.createSecureServer({ key: ca.keyPem, cert: ca.certPem, allowHTTP1: true, ...(window ? { settings: { initialWindowSize: window } } : {}) });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => stats.connections++);
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    stats.sessions++;
    h2Sessions.add(session);
    if (window) session.setLocalWindowSize(window);
    session.on('close', () => h2Sessions.delete(session));
  });
  // A client that goes away mid-session must not take the server down.
  server.on('sessionError', () => {});
  server.on('tlsClientError', () => {});
  server.on('request', (req: http2.Http2ServerRequest | IncomingMessage, res: http2.Http2ServerResponse | ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function handle(
    req: http2.Http2ServerRequest | IncomingMessage,
    res: http2.Http2ServerResponse | ServerResponse,
    body: string,
  ): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const method = req.method ?? '';
    if (method === 'POST' && path === '/token') {
      stats.oauthTokens++;
      const owner = assertionIssuer(body);
      const accessToken = owner === undefined ? 'fake-fcm-access-token' : `fake-fcm-access-token.${Buffer.from(owner).toString('base64url')}`;
      if (owner !== undefined) tokenOwners.set(accessToken, owner);
      return reply(res, 200, { access_token: accessToken, expires_in: 3600, token_type: 'Bearer' });
    }
    const match = SEND_PATH.exec(path);
    if (method !== 'POST' || !match) {
      stats.unknownRequests++;
      return reply(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: `no route ${method} ${path}` } });
    }
    const project = decodeURIComponent(match[1] ?? '');
    if (requireAuth && !/^Bearer \S+/.test(String(req.headers['authorization'] ?? ''))) {
      return reply(res, 401, {
        error: { code: 401, status: 'UNAUTHENTICATED', message: 'Request is missing required authentication credential.' },
      });
    }
    let parsed: { message?: FcmMessage; validate_only?: boolean };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return reply(res, 400, { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' } });
    }
    const message: FcmMessage = parsed.message ?? {};
    const token = message.token;
    const key = token ?? '';
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    stats.received++;
    if (record === 'all') {
      const client = tokenOwners.get(/^Bearer (\S+)/.exec(String(req.headers['authorization'] ?? ''))?.[1] ?? '');
      receipts.push({ token: key, jobId: message.data?.['job_id'] ?? message.data?.['jobId'], at: performance.now(), client });
    }
    notify();
    const outcome = decide({ token, attempt, message });
    const delay = typeof latency === 'function' ? latency(message) : (latency ?? 0);

    const answer = (): boolean => {
      if (!open.delete(entry)) return false; // already answered or cut off
      if (isGone(res)) {
        stats.cutOff++;
        return false;
      }
      const code: 'ok' | FcmErrorCode = typeof outcome === 'string' ? outcome : outcome.error;
      let status = 200;
      if (code === 'ok') {
        stats.delivered++;
        delivered.set(key, (delivered.get(key) ?? 0) + 1);
        reply(res, 200, { name: `projects/${project}/messages/${++messageSeq}` });
      } else {
        stats.failed++;
        const info = STATUS[code];
        status = info.code;
        const retryAfter =
          typeof outcome === 'object' && outcome.retryAfterSeconds !== undefined
            ? outcome.retryAfterSeconds
            : code === 'QUOTA_EXCEEDED'
              ? quotaRetryAfter
              : undefined;
        reply(res, status, errorBody(code), retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
      }
      stats.requests++;
      stats.byOutcome[code] = (stats.byOutcome[code] ?? 0) + 1;
      stats.byHttpVersion[req.httpVersion] = (stats.byHttpVersion[req.httpVersion] ?? 0) + 1;
      if (record === 'all') {
        received.push({
          project,
          token,
          attempt,
          outcome: code,
          status,
          httpVersion: req.httpVersion,
          validateOnly: parsed.validate_only === true,
          androidPriority: message.android?.priority,
          apnsPriority: message.apns?.headers?.['apns-priority'],
          collapseKey: message.android?.collapse_key,
          data: message.data,
          message,
          at: performance.now(),
        });
      }
      notify();
      return true;
    };
    const entry: OpenRequest = { answer };
    open.add(entry);
    // A stream or connection destroyed before the answer: received, never delivered; dropped from the open set.
    res.once('close', () => {
      if (!open.delete(entry)) return;
      stats.cutOff++;
      heldQueue = heldQueue.filter((e) => e !== entry);
    });
    const due = (): void => {
      if (holding) heldQueue.push(entry);
      else answer();
    };
    if (delay > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        due();
      }, delay);
      timers.add(timer);
    } else {
      due();
    }
  }

  function decide(query: OutcomeQuery): FcmOutcome {
    if (!outcomes) return 'ok';
    if (typeof outcomes === 'function') return outcomes(query);
    return (query.token !== undefined ? outcomes[query.token] : undefined) ?? 'ok';
  }

  function notify(): void {
    if (waiters.length === 0) return;
    waiters = waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    host: '127.0.0.1',
    port,
    origin: `https://127.0.0.1:${port}`,
    ca: ca.caPem,
    caFile: ca.caFile,
    received,
    stats: () => structuredClone(stats),
    deliveredTo: (token) => delivered.get(token) ?? 0,
    attemptsFor: (token) => attempts.get(token) ?? 0,
    deliveredTokens: () => new Set(delivered.keys()),
    requestsReceived: (token) => attempts.get(token) ?? 0,
    receivedTokens: () => new Map(attempts),
    duplicates() {
      let extra = 0;
      for (const count of attempts.values()) extra += Math.max(0, count - 1);
      return extra;
    },
    receipts: () => receipts,
    hold() {
      holding = true;
    },
    release(count) {
      const take = heldQueue.splice(0, count === undefined ? heldQueue.length : Math.max(0, count));
      if (heldQueue.length === 0) holding = false;
      let written = 0;
      for (const entry of take) if (entry.answer()) written++;
      return written;
    },
    held: () => open.size,
    waitFor(count, { of = 'delivered', timeoutMs = 10_000 } = {}) {
      const current = (): number => (of === 'delivered' ? stats.delivered : of === 'received' ? stats.received : stats.requests);
      if (current() >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`fake FCM: waited ${timeoutMs} ms for ${count} ${of}, got ${current()}`));
        }, timeoutMs);
        const waiter = {
          check: () => current() >= count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.push(waiter);
      });
    },
    setOutcomes(next) {
      outcomes = next;
    },
    setLatency(next) {
      latency = next;
    },
    endSessions(how) {
      const ended = h2Sessions.size;
      for (const session of h2Sessions) {
        if (how === 'goaway') session.close();
        else session.destroy();
      }
      return ended;
    },
    openSessions: () => h2Sessions.size,
    reset() {
      received.length = 0;
      receipts.length = 0;
      attempts.clear();
      delivered.clear();
      stats = { ...emptyStats(), connections: stats.connections, sessions: stats.sessions };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      holding = false;
      heldQueue = [];
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/** FCM v1's error body for a code, as the real service sends it. */
export function errorBody(code: FcmErrorCode): object {
  const info = STATUS[code];
  return {
    error: {
      code: info.code,
      message: info.message,
      status: info.status,
      details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: code }],
    },
  };
}

interface OpenRequest {
  /** Writes the answer; false when it was already written or the stream is gone. */
  answer: () => boolean;
}

/** The `iss` (the service account's client_email) of a token request's JWT assertion; not verified (a fake). */
function assertionIssuer(body: string): string | undefined {
  const payload = new URLSearchParams(body).get('assertion')?.split('.')[1];
  if (!payload) return undefined;
  try {
    const iss = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** The response's stream or connection is gone (destroyed, reset, closed): nothing can be written to it. */
function isGone(res: http2.Http2ServerResponse | ServerResponse): boolean {
  if (res.writableEnded) return true;
  if ('stream' in res) return res.stream.destroyed || res.stream.closed;
  return res.destroyed || res.socket === null || res.socket.destroyed;
}

function emptyStats(): FakeFcmStats {
  return { received: 0, cutOff: 0, requests: 0, delivered: 0, failed: 0, byOutcome: {}, byHttpVersion: {}, oauthTokens: 0, unknownRequests: 0, connections: 0, sessions: 0 };
}

function reply(
  res: http2.Http2ServerResponse | ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  try {
    (res as ServerResponse).writeHead(status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  } catch {
    // the stream went away between the check and the write: the client gets nothing, as with a real cut
  }
}
