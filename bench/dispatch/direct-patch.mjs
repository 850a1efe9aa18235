// bench/dispatch.ts, "direct" variant only: stands in for DNS. In a process (or thread) where it is installed,
// TLS connections and HTTP/2 sessions to fcm.googleapis.com / oauth2.googleapis.com dial the fake FCM at
// 127.0.0.1:$BENCH_FAKE_PORT instead, keeping the asked name as TLS servername (certificate verification stays
// on: the product's own CA settings decide, plus $BENCH_FAKE_CA_FILE for the HTTP/2 sessions firebase-admin opens
// itself). firebase-admin's HTTP/2 client sends `:scheme: "https:"`, which the fake's Node HTTP/2 server resets,
// so requests on redirected sessions get "https" (as test/support/fcm/redirect-http2.ts does in-process).
// Plain JavaScript: it runs before tsx is registered (direct-preload.mjs, and at the start of pool threads).
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import tls from 'node:tls';

const HOSTS = new Set(['fcm.googleapis.com', 'oauth2.googleapis.com']);
let installed = false;

export default function installDirect() {
  if (installed) return;
  installed = true;
  const port = Number(process.env.BENCH_FAKE_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('bench direct patch: BENCH_FAKE_PORT is not set');
  const host = '127.0.0.1';
  const caFile = process.env.BENCH_FAKE_CA_FILE;
  const ca = caFile ? [...tls.rootCertificates, readFileSync(caFile, 'utf8')] : undefined;

  const tlsConnect = tls.connect;
  tls.connect = function patchedTlsConnect(...args) {
    const first = args[0];
    if (first && typeof first === 'object' && !first.socket) {
      const name = first.servername || first.host;
      if (HOSTS.has(name)) args[0] = { ...first, host, port, servername: name };
    }
    return tlsConnect.apply(this, args);
  };

  const h2Connect = http2.connect;
  http2.connect = function patchedHttp2Connect(authority, ...rest) {
    const url = typeof authority === 'string' ? new URL(authority) : authority instanceof URL ? authority : undefined;
    if (!url || !HOSTS.has(url.hostname)) return h2Connect.call(http2, authority, ...rest);
    const listener = rest.find((a) => typeof a === 'function');
    const given = rest.find((a) => typeof a === 'object' && a !== null) ?? {};
    const servername = url.hostname;
    const session = h2Connect.call(
      http2,
      url,
      { ...given, createConnection: () => tlsConnect.call(tls, { host, port, servername, ...(ca ? { ca } : {}), ALPNProtocols: ['h2'] }) },
      listener,
    );
    const request = session.request.bind(session);
    session.request = (headers, options) =>
      request(headers && headers[':scheme'] === 'https:' ? { ...headers, ':scheme': 'https' } : headers, options);
    return session;
  };
}
