// One long-lived HTTP/2 session to an HTTPS origin (fcm.googleapis.com), kept open across requests, one stream per
// request, bounded in flight, dropped and reopened on GOAWAY or error: the client of the 'http2-session' transport.
import http2 from 'node:http2';
import tls from 'node:tls';
import { dialH2 } from './h2-dial.js';
import { asTransportError, H2TransportError } from './h2-transport-error.js';

export interface H2SessionClientOptions {
  /** https://host[:port] the requests go to (its host is the TLS servername and the CONNECT authority). */
  readonly origin: string;
  /** Trusted CAs (Node's roots plus extras); undefined: Node's roots. */
  readonly ca?: readonly string[] | undefined;
  /** http(s)://[user:pass@]host:port of an HTTP proxy to tunnel through with CONNECT. */
  readonly proxyUrl?: string | undefined;
  /** TEST SEAM ONLY (no proxy): TCP-connect here instead of the origin's host, keeping its name for TLS. */
  readonly dialOverride?: { readonly host: string; readonly port: number } | undefined;
  /** Streams in flight at most (also bounded by the server's maxConcurrentStreams). */
  readonly maxInFlight: number;
  /** A stream not answered within this is cancelled and fails. */
  readonly requestTimeoutMs: number;
  /** Proxy CONNECT plus TLS handshake must finish within this. */
  readonly connectTimeoutMs: number;
  /** A session with no stream for this long is closed (reopened on the next request). */
  readonly idleTimeoutMs: number;
  /** Ping period while a session is open; an unanswered ping destroys it. 0: no pings. */
  readonly pingIntervalMs: number;
}

export interface H2Response {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
}

interface Pending {
  readonly headers: http2.OutgoingHttpHeaders;
  readonly body: string;
  readonly resolve: (response: H2Response) => void;
  readonly reject: (error: Error) => void;
}

interface Live {
  readonly session: http2.ClientHttp2Session;
  /** false once GOAWAY, error or close was seen: no new stream goes on it. */
  usable: boolean;
  inFlight: number;
  lastUsed: number;
  pingOutstanding: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * firebase-admin's sendEach opens a TLS session and an HTTP/2 connection per call and cannot go through a proxy;
 * this client pays the handshake once. TLS verification is always on: `ca` is the caller's full trust list (Node's
 * roots plus an extra CA, see fcm-agent.ts), never a replacement of the roots.
 * - Streams beyond maxInFlight and the server's SETTINGS_MAX_CONCURRENT_STREAMS wait in a FIFO queue here (not in
 *   nghttp2's, where they would count against the request timeout).
 * - A session that sends GOAWAY, fails or closes is dropped at once; streams it still carried fail with an
 *   H2TransportError (the caller answers them as retryable), never a hang: every stream has the request timeout.
 * - Liveness: a ping every pingIntervalMs, an unanswered one destroys the session (a proxy or NAT that dropped the
 *   tunnel silently would otherwise hold streams until their timeout); a session idle for idleTimeoutMs is closed,
 *   so a later batch does not find a tunnel the proxy has already forgotten.
 * No process-wide state: several clients (and worker threads) each have their own session.
 */
export class H2SessionClient {
  private readonly url: URL;
  /** Built once from `ca` (parsing ~140 roots per reconnect is not free). */
  private readonly secureContext: tls.SecureContext | undefined;
  private readonly queue: Pending[] = [];
  private live: Live | undefined;
  private connecting: Promise<Live> | undefined;
  private closed = false;

  constructor(private readonly options: H2SessionClientOptions) {
    this.url = new URL(options.origin);
    this.secureContext = options.ca ? tls.createSecureContext({ ca: [...options.ca] }) : undefined;
    if (this.url.protocol !== 'https:') throw new Error(`H2SessionClient: https origin required, got ${options.origin}`);
    if (options.proxyUrl) {
      const proxy = new URL(options.proxyUrl);
      if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') throw new Error(`H2SessionClient: proxy URL must be http:// or https://, got ${proxy.protocol}`);
      if (options.dialOverride) throw new Error('H2SessionClient: dialOverride and proxyUrl exclude each other');
    }
  }

  /**
   * Resolves with the answer (any status); rejects with H2TransportError when no complete answer came. `headers`
   * must carry ':method' and ':path' (the caller keeps one object per token: no copy per request here).
   */
  request(headers: http2.OutgoingHttpHeaders, body: string): Promise<H2Response> {
    if (this.closed) return Promise.reject(new H2TransportError('HTTP/2 client closed', 'network'));
    return new Promise<H2Response>((resolve, reject) => {
      this.queue.push({ headers, body, resolve, reject });
      this.pump();
    });
  }

  /** Opens the session ahead of the first request (a warm-up); resolves either way, a failure is retried on use. */
  async preconnect(): Promise<void> {
    if (this.closed || this.live?.usable) return;
    this.connect();
    await this.connecting?.catch(() => undefined);
  }

  /** Fails what is queued, closes the session gracefully (streams in flight finish) then for good. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new H2TransportError('HTTP/2 client closed', 'network'));
    const live = this.live ?? (await this.connecting?.catch(() => undefined));
    if (!live) return;
    this.retire(live); // sends GOAWAY; the session closes once its streams are done
    if (live.session.destroyed) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => live.session.destroy(), this.options.requestTimeoutMs).unref();
      live.session.once('close', () => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private limit(live: Live): number {
    const remote = live.session.remoteSettings.maxConcurrentStreams;
    return Math.max(1, Math.min(this.options.maxInFlight, remote ?? this.options.maxInFlight));
  }

  private pump(): void {
    if (this.queue.length === 0 || this.closed) return;
    const live = this.live;
    if (!live || !live.usable) {
      this.connect();
      return;
    }
    const limit = this.limit(live);
    while (this.queue.length > 0 && live.usable && live.inFlight < limit) {
      const next = this.queue.shift() as Pending;
      this.start(live, next);
    }
  }

  private connect(): void {
    if (this.connecting) return;
    this.connecting = this.open().then(
      (live) => {
        this.connecting = undefined;
        if (this.closed) {
          live.session.destroy();
          return live;
        }
        // A GOAWAY during the handshake leaves it unusable: pump() then opens another.
        if (live.usable) this.live = live;
        this.pump();
        return live;
      },
      (error: unknown) => {
        this.connecting = undefined;
        // Nothing can be sent without a session: what waits fails now (the caller retries later) instead of
        // looping on a host that refuses us.
        const failure = asTransportError(error, 'could not open the HTTP/2 session');
        for (const p of this.queue.splice(0)) p.reject(failure);
        throw failure;
      },
    );
    this.connecting.catch(() => {});
  }

  private start(live: Live, pending: Pending): void {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = live.session.request(pending.headers, { endStream: false });
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION' || code === 'ERR_HTTP2_OUT_OF_STREAMS') {
        // The session went away between our check and the call: put the request back, reconnect.
        this.retire(live);
        this.queue.unshift(pending);
        this.pump();
      } else {
        pending.reject(asTransportError(error, 'HTTP/2 request refused locally'));
      }
      return;
    }
    live.inFlight++;
    let settled = false;
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const finish = (outcome: { response: H2Response } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      live.inFlight--;
      live.lastUsed = Date.now();
      if ('response' in outcome) pending.resolve(outcome.response);
      else pending.reject(outcome.error);
      this.pump();
    };
    stream.setTimeout(this.options.requestTimeoutMs, () => {
      finish({ error: new H2TransportError(`no answer within ${this.options.requestTimeoutMs} ms`, 'timeout') });
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on('response', (h) => {
      headers = h;
      status = Number(h[':status'] ?? 0);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (status === 0) finish({ error: new H2TransportError('stream ended without response headers', 'network') });
      else finish({ response: { status, headers, body: Buffer.concat(chunks).toString('utf8') } });
    });
    stream.on('error', (error) => finish({ error: asTransportError(error, 'HTTP/2 stream failed') }));
    stream.on('close', () => {
      // Every stream closes, answered ones included (after 'end'): build the error only when it is one.
      if (settled) return;
      const code = stream.rstCode;
      const why = code === http2.constants.NGHTTP2_REFUSED_STREAM ? 'refused (REFUSED_STREAM)' : `closed (code ${code ?? 'none'})`;
      finish({ error: new H2TransportError(`HTTP/2 stream ${why} before its answer was complete`, 'network') });
    });
    stream.end(pending.body);
  }

  /** No new stream on this session; it closes once its streams are done. */
  private retire(live: Live): void {
    live.usable = false;
    if (live.timer) clearInterval(live.timer);
    live.timer = undefined;
    if (this.live === live) this.live = undefined;
    if (!live.session.closed && !live.session.destroyed) live.session.close();
  }

  private async open(): Promise<Live> {
    const socket = await dialH2(this.url, this.secureContext, this.options);
    const session = http2.connect(this.url.origin, { createConnection: () => socket });
    const live: Live = { session, usable: true, inFlight: 0, lastUsed: Date.now(), pingOutstanding: false, timer: undefined };
    const drop = (): void => {
      const wasCurrent = this.live === live;
      this.retire(live);
      if (wasCurrent) this.pump();
    };
    session.on('goaway', drop);
    session.on('close', drop);
    // Streams in flight get their own error/close events; the session's error only ends the session.
    session.on('error', () => session.destroy());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.destroy();
        reject(new H2TransportError(`no HTTP/2 SETTINGS from ${this.url.hostname} within ${this.options.connectTimeoutMs} ms`, 'timeout'));
      }, this.options.connectTimeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(asTransportError(error, 'HTTP/2 session failed to start'));
      };
      session.once('error', onError);
      session.once('close', () => {
        clearTimeout(timer);
        reject(new H2TransportError('HTTP/2 session closed before it was ready', 'network'));
      });
      session.once('remoteSettings', () => {
        clearTimeout(timer);
        session.off('error', onError);
        resolve();
      });
    });
    live.timer = setInterval(() => this.tick(live), Math.max(50, Math.min(this.options.pingIntervalMs || this.options.idleTimeoutMs, this.options.idleTimeoutMs)));
    live.timer.unref();
    return live;
  }

  private tick(live: Live): void {
    if (!live.usable) return;
    if (live.inFlight === 0 && this.queue.length === 0 && Date.now() - live.lastUsed >= this.options.idleTimeoutMs) {
      this.retire(live);
      return;
    }
    if (this.options.pingIntervalMs <= 0) return;
    if (live.pingOutstanding) {
      // The previous ping is still unanswered a whole period later: the peer or the tunnel is gone.
      live.session.destroy(new H2TransportError('HTTP/2 ping unanswered', 'network'));
      return;
    }
    live.pingOutstanding = true;
    const sent = live.session.ping((error) => {
      if (!error) live.pingOutstanding = false;
    });
    if (!sent) live.pingOutstanding = false;
  }
}
