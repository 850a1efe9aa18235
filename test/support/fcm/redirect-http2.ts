// Sends firebase-admin's HTTP/2 path (sendEach / sendEachForMulticast, which call http2.connect with no agent)
// to the fake FCM, in this process only, with TLS verification on: sessions to the redirected hostnames connect
// to host:port but verify the certificate for the original name against the given CA. It also normalises
// firebase-admin's `:scheme: "https:"` to "https", which Node's HTTP/2 server would reset with PROTOCOL_ERROR.
// Process-wide while installed (it patches node:http2's connect); call restore() when done.
import http2 from 'node:http2';
import tls from 'node:tls';

export interface Http2Redirect {
  /** Sessions opened through the redirect (firebase-admin opens one per sendEach call). */
  sessions(): number;
  restore(): void;
}

type Connect = typeof http2.connect;

export function redirectFcmHttp2(options: {
  port: number;
  host?: string;
  ca: string;
  hostnames?: readonly string[];
}): Http2Redirect {
  const host = options.host ?? '127.0.0.1';
  const hostnames = options.hostnames ?? ['fcm.googleapis.com'];
  const module = http2 as { connect: Connect };
  const original = module.connect;
  let sessions = 0;

  const patched = function (this: unknown, authority: unknown, ...rest: unknown[]): http2.ClientHttp2Session {
    const url =
      typeof authority === 'string' ? new URL(authority) : authority instanceof URL ? authority : undefined;
    if (!url || !hostnames.includes(url.hostname)) {
      return (original as (...args: unknown[]) => http2.ClientHttp2Session).call(http2, authority, ...rest);
    }
    const listener = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    const given = (rest.find((arg) => typeof arg === 'object' && arg !== null) ?? {}) as http2.SecureClientSessionOptions;
    const servername = url.hostname;
    const session = original.call(
      http2,
      url,
      {
        ...given,
        createConnection: () =>
          tls.connect({ host, port: options.port, servername, ca: options.ca, ALPNProtocols: ['h2'] }),
      },
      listener,
    );
    sessions++;
    const request = session.request.bind(session);
    session.request = ((headers?: http2.OutgoingHttpHeaders, requestOptions?: http2.ClientSessionRequestOptions) =>
      request(
        headers && headers[':scheme'] === 'https:' ? { ...headers, ':scheme': 'https' } : headers,
        requestOptions,
      )) as typeof session.request;
    return session;
  };
  module.connect = patched as Connect;
  return {
    sessions: () => sessions,
    restore: () => {
      if (module.connect === (patched as Connect)) module.connect = original;
    },
  };
}
