// The keep-alive HTTPS agent FCM sends (http1) and Google's token calls go through: direct or through the HTTP
// proxy, with the extra CA added to Node's roots (never in their place: TLS verification is never turned off).
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';

export interface FcmAgentOptions {
  /** http://host:port of the HTTP proxy. */
  readonly proxyUrl?: string | undefined;
  /** Sockets of the keep-alive agent. @defaultValue 64 */
  readonly maxSockets?: number | undefined;
  /** TEST SEAM ONLY: dial this address, keeping the asked host as TLS servername (see FcmSenderOptions). */
  readonly dialOverride?: { readonly host: string; readonly port: number } | undefined;
}

/** Node's root certificates plus the extra CA file's, or undefined without one. */
export function trustedCas(extraCaFile: string | undefined): string[] | undefined {
  return extraCaFile ? [...tls.rootCertificates, readFileSync(extraCaFile, 'utf8')] : undefined;
}

// The extra CA goes to the agents as a secure context built once, not as a `ca` option: Node's https.Agent (and
// agent-base, which calls it) puts `options.ca` into the pool key it computes several times per request, i.e.
// joins all ~140 root certificates into a ~220 kB string each time, ~0.12 ms of CPU per call (measured by
// bench/fcm-transports.ts: a 'http1' send cost ~0.5 ms of CPU with `ca`). A secure context is not part of the key,
// and the trust list is parsed once instead of on every new socket. Verification is unchanged: the context holds
// the roots plus the extra CA, rejectUnauthorized keeps its default.
export function makeAgent(options: FcmAgentOptions, ca: string[] | undefined): https.Agent | HttpsProxyAgent<string> {
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

type ConnectArgs = Parameters<HttpsProxyAgent<string>['connect']>;

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
