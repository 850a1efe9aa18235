// firebase-admin against the fake FCM, for real, with TLS verification on: HTTP/1.1 through a redirecting agent,
// HTTP/1.1 through a CONNECT proxy (the utility's network path), HTTP/2 (sendEach) through an in-process
// http2.connect redirect, and FCM's error answers surfacing as firebase-admin's error codes. No product code.
// Then the fake's own witness of faults: requests counted as received before any answer, answers held and
// released, a request cut off while held (received, never delivered), and duplicates() from requests received.
// Shown failing against a broken fake (applied, run, reverted): count a request as received only when its answer is
// written (in test/support/fcm/fake-fcm-server.ts move `attempts.set(key, attempt)` from the receipt into answer())
// → the three tests below fail on "expected +0 to be 1" (requestsReceived while held or cut off) and
// "expected 3 to be 4" (duplicates() missing the request that was cut off).
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { deleteApp, initializeApp, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Message, type Messaging } from 'firebase-admin/messaging';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../support/fcm/connect-proxy.js';
import { startFakeFcm, type FakeFcm } from '../support/fcm/fake-fcm-server.js';
import { redirectFcmHttp2 } from '../support/fcm/redirect-http2.js';

const PROJECT = 'samaconso-test';
// No token call at all: firebase-admin asks this credential, never oauth2.googleapis.com.
const credential: Credential = {
  getAccessToken: async () => ({ access_token: 'test-access-token', expires_in: 3600 }),
};

let fake: FakeFcm;
let proxy: ConnectProxy;
const apps: App[] = [];

function messaging(name: string, httpAgent?: https.Agent): Messaging {
  const app = initializeApp({ credential, projectId: PROJECT, ...(httpAgent ? { httpAgent } : {}) }, name);
  apps.push(app);
  return getMessaging(app);
}

/** An agent that dials the fake FCM whatever host is asked, keeping that host as TLS servername (verified). */
function redirectingAgent(): https.Agent {
  const agent = new https.Agent({ keepAlive: true, ca: fake.ca });
  (agent as unknown as { createConnection: (o: tls.ConnectionOptions) => Duplex }).createConnection = (options) =>
    tls.connect({ ...options, host: fake.host, port: fake.port, servername: options.servername ?? options.host });
  return agent;
}

function urgent(token: string, data: Record<string, string> = {}): Message {
  return {
    token,
    notification: { title: 'Coupure', body: 'Coupure prévue demain' },
    data,
    android: { priority: 'high', ttl: 3_600_000, collapseKey: 'outage' },
    apns: { headers: { 'apns-priority': '10' } },
  };
}

beforeAll(async () => {
  fake = await startFakeFcm();
  proxy = await startConnectProxy({ target: { host: fake.host, port: fake.port } });
});

afterAll(async () => {
  await Promise.all(apps.map((app) => deleteApp(app)));
  await proxy?.close();
  await fake?.close();
});

beforeEach(() => {
  fake.release(); // a test that failed while holding must not hold the next one's answers
  fake.reset();
  fake.setOutcomes(undefined);
  fake.setLatency(0);
  proxy.reset();
});

describe('fake FCM with firebase-admin', () => {
  it('HTTP/1.1 send() through a redirecting agent, certificate verified for fcm.googleapis.com', async () => {
    const fcm = messaging('h1', redirectingAgent());
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await fcm.send(urgent(`tok-h1-${i}`, { n: String(i) })));

    expect(ids).toEqual([1, 2, 3].map((n) => expect.stringMatching(new RegExp(`^projects/${PROJECT}/messages/\\d+$`))));
    await fake.waitFor(3);
    expect(fake.received.map((m) => m.token)).toEqual(['tok-h1-0', 'tok-h1-1', 'tok-h1-2']);
    const first = fake.received[0]!;
    expect(first).toMatchObject({
      project: PROJECT,
      httpVersion: '1.1',
      androidPriority: 'high',
      apnsPriority: '10',
      collapseKey: 'outage',
      data: { n: '0' },
    });
    expect(first.message.android?.ttl).toBe('3600s');
    expect(fake.stats()).toMatchObject({ requests: 3, delivered: 3, failed: 0, oauthTokens: 0 });
  });

  it('refuses a server certificate from an untrusted CA (verification is really on)', async () => {
    const agent = new https.Agent({ keepAlive: false }); // no test CA
    (agent as unknown as { createConnection: (o: tls.ConnectionOptions) => Duplex }).createConnection = (options) =>
      tls.connect({ ...options, host: fake.host, port: fake.port });
    const fcm = messaging('untrusted', agent);
    await expect(fcm.send(urgent('tok-untrusted'))).rejects.toMatchObject({ code: 'app/network-error' });
    expect(fake.stats().requests).toBe(0);
  });

  it('HTTP/1.1 send() through a CONNECT proxy (https-proxy-agent), tunnels counted by the proxy', async () => {
    // https-proxy-agent 9 applies its constructor options to the connection to the PROXY only (and resets
    // agent.options), so a `ca` given there does not reach the tunnelled TLS to FCM: add it per connection.
    class ProxyAgentWithCa extends HttpsProxyAgent<string> {
      override connect(req: Parameters<HttpsProxyAgent<string>['connect']>[0], opts: Parameters<HttpsProxyAgent<string>['connect']>[1]) {
        return super.connect(req, Object.assign(opts, { ca: fake.ca }));
      }
    }
    const plain = messaging('proxy-ca-in-constructor', new HttpsProxyAgent(proxy.url, { ca: fake.ca }));
    await expect(plain.send(urgent('tok-proxy-no-ca'))).rejects.toMatchObject({ code: 'app/network-error' });
    expect(fake.stats().requests).toBe(0);
    proxy.reset();

    const fcm = messaging('proxy', new ProxyAgentWithCa(proxy.url, { keepAlive: true }));
    await Promise.all([0, 1, 2, 3].map((i) => fcm.send(urgent(`tok-proxy-${i}`))));

    expect(fake.stats()).toMatchObject({ delivered: 4, byHttpVersion: { '1.1': 4 } });
    expect(proxy.tunnels()).toBeGreaterThanOrEqual(1);
    expect(proxy.tunnels()).toBeLessThanOrEqual(4);
    expect(new Set(proxy.authorities())).toEqual(new Set(['fcm.googleapis.com:443']));
  });

  it('HTTP/2 sendEach() through the in-process http2.connect redirect (:scheme normalised)', async () => {
    const redirect = redirectFcmHttp2({ port: fake.port, ca: fake.ca });
    try {
      const fcm = messaging('h2');
      const tokens = Array.from({ length: 50 }, (_, i) => `tok-h2-${i}`);
      const batch = await fcm.sendEach(tokens.map((t) => urgent(t)));
      expect(batch.successCount).toBe(50);
      expect(redirect.sessions()).toBe(1); // one new session per sendEach call
      expect(fake.stats()).toMatchObject({ delivered: 50, byHttpVersion: { '2.0': 50 } });
      expect(fake.deliveredTokens()).toEqual(new Set(tokens));
    } finally {
      redirect.restore();
    }
  });

  it('scripted outcomes surface as firebase-admin error codes (HTTP/1.1 send)', async () => {
    fake.setOutcomes({
      'tok-unregistered': 'UNREGISTERED',
      'tok-invalid': 'INVALID_ARGUMENT',
      'tok-mismatch': 'SENDER_ID_MISMATCH',
      'tok-quota': 'QUOTA_EXCEEDED',
      // firebase-admin retries a 503 itself (4 times: 0, 1, 2, 4 s) unless Retry-After exceeds 60 s
      'tok-unavailable': { error: 'UNAVAILABLE', retryAfterSeconds: 120 },
      'tok-internal': 'INTERNAL',
    });
    const fcm = messaging('errors', redirectingAgent());
    const codeOf = (token: string): Promise<unknown> =>
      fcm.send(urgent(token)).then(
        () => 'ok',
        (error: { code?: string }) => error.code,
      );

    expect(await codeOf('tok-unregistered')).toBe('messaging/registration-token-not-registered');
    expect(await codeOf('tok-invalid')).toBe('messaging/invalid-argument');
    expect(await codeOf('tok-mismatch')).toBe('messaging/mismatched-credential');
    expect(await codeOf('tok-quota')).toBe('messaging/message-rate-exceeded');
    expect(await codeOf('tok-unavailable')).toBe('messaging/server-unavailable');
    expect(await codeOf('tok-internal')).toBe('messaging/internal-error');
    expect(await codeOf('tok-fine')).toBe('ok');

    // one request each: nothing retried by firebase-admin here
    expect(fake.stats()).toMatchObject({ requests: 7, delivered: 1, failed: 6 });
    expect(fake.received.find((m) => m.token === 'tok-quota')?.status).toBe(429);
  });

  it('a 503 is retried by firebase-admin itself and then delivered; the fake counts both attempts', async () => {
    fake.setOutcomes(({ attempt }) => (attempt === 1 ? 'UNAVAILABLE' : 'ok'));
    const fcm = messaging('retry', redirectingAgent());
    await expect(fcm.send(urgent('tok-flaky'))).resolves.toMatch(/messages\/\d+$/);
    expect(fake.attemptsFor('tok-flaky')).toBe(2);
    expect(fake.deliveredTo('tok-flaky')).toBe(1);
  });

  it('HTTP/2 sendEach(): per-token outcomes in the batch response, counters match what was sent', async () => {
    const redirect = redirectFcmHttp2({ port: fake.port, ca: fake.ca });
    try {
      fake.setOutcomes({ 'tok-b-3': 'UNREGISTERED', 'tok-b-7': 'INVALID_ARGUMENT', 'tok-b-9': 'QUOTA_EXCEEDED' });
      fake.setLatency(20);
      const fcm = messaging('h2-mixed');
      const tokens = Array.from({ length: 12 }, (_, i) => `tok-b-${i}`);
      const started = performance.now();
      const batch = await fcm.sendEach(tokens.map((t) => urgent(t)));
      expect(performance.now() - started).toBeGreaterThanOrEqual(19); // latency injected, sent in parallel
      expect(performance.now() - started).toBeLessThan(12 * 20);

      const codes = batch.responses.map((r) => (r.success ? 'ok' : r.error?.code));
      expect(codes[3]).toBe('messaging/registration-token-not-registered');
      expect(codes[7]).toBe('messaging/invalid-argument');
      expect(codes[9]).toBe('messaging/message-rate-exceeded');
      expect(batch.successCount).toBe(9);

      expect(fake.stats()).toMatchObject({ requests: 12, delivered: 9, failed: 3 });
      for (const [i, token] of tokens.entries()) {
        expect(fake.attemptsFor(token)).toBe(1);
        expect(fake.deliveredTo(token)).toBe([3, 7, 9].includes(i) ? 0 : 1);
      }
    } finally {
      redirect.restore();
    }
  });

  it('waitFor() resolves on the fake\'s own count and rejects with the count on timeout', async () => {
    fake.setLatency(30);
    const fcm = messaging('wait', redirectingAgent());
    const sends = Promise.all([0, 1, 2, 3, 4].map((i) => fcm.send(urgent(`tok-w-${i}`))));
    await fake.waitFor(5);
    expect(fake.stats().delivered).toBe(5);
    await sends;
    await expect(fake.waitFor(6, { timeoutMs: 50 })).rejects.toThrow(/waited 50 ms for 6 delivered, got 5/);
  });
});

describe('fake FCM: requests received, held answers, duplicates', () => {
  /** A raw HTTP/2 send on `session`; resolves with the status, or -1 when the stream is cut. */
  function h2Send(session: http2.ClientHttp2Session, token: string, data: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve) => {
      const req = session.request({ ':method': 'POST', ':path': `/v1/projects/${PROJECT}/messages:send`, authorization: 'Bearer x' });
      req.on('response', (headers) => resolve(Number(headers[':status'])));
      req.on('error', () => resolve(-1));
      req.on('close', () => resolve(-1)); // no-op once resolved
      req.resume();
      req.end(JSON.stringify({ message: { token, data } }));
    });
  }

  it('hold(): requests are received and counted, nothing is answered until release(); release(n) answers the n oldest', async () => {
    const fcm = messaging('hold', redirectingAgent());
    fake.hold();
    let answered = 0;
    const sends = [0, 1, 2].map((i) => fcm.send(urgent(`tok-hold-${i}`, { job_id: `job-${i}` })).then((id) => (answered++, id)));
    await fake.waitFor(3, { of: 'received' });

    expect(fake.held()).toBe(3);
    expect(answered).toBe(0);
    expect(fake.stats()).toMatchObject({ received: 3, requests: 0, delivered: 0 });
    expect(fake.requestsReceived('tok-hold-1')).toBe(1);
    expect(fake.deliveredTo('tok-hold-1')).toBe(0);
    expect(fake.receivedTokens()).toEqual(new Map([0, 1, 2].map((i) => [`tok-hold-${i}`, 1])));
    expect(new Set(fake.receipts().map((r) => `${r.token}:${r.jobId}`))).toEqual(
      new Set(['tok-hold-0:job-0', 'tok-hold-1:job-1', 'tok-hold-2:job-2']),
    );
    const firstTwo = fake.receipts().slice(0, 2).map((r) => r.token);

    expect(fake.release(2)).toBe(2); // one still held: holding goes on
    await fake.waitFor(2);
    expect(fake.held()).toBe(1);
    expect(fake.deliveredTokens()).toEqual(new Set(firstTwo)); // the two oldest, in order of receipt
    const late = fcm.send(urgent('tok-hold-late'));
    await fake.waitFor(4, { of: 'received' });
    expect(fake.held()).toBe(2); // received while holding: held too

    expect(fake.release()).toBe(2); // all: holding stops
    await Promise.all([...sends, late]);
    expect(fake.held()).toBe(0);
    await fcm.send(urgent('tok-after-release')); // answered at once: no longer holding
    expect(fake.stats()).toMatchObject({ received: 5, requests: 5, delivered: 5, cutOff: 0 });
    expect(fake.release()).toBe(0);
  });

  it('a request whose connection is destroyed while held counts as received, never delivered, and the fake goes on', async () => {
    const session = http2.connect(fake.origin.replace('127.0.0.1', 'localhost'), { ca: fake.ca });
    session.on('error', () => {});
    fake.hold();
    const statuses = Promise.all([h2Send(session, 'tok-cut-0'), h2Send(session, 'tok-cut-1')]);
    await fake.waitFor(2, { of: 'received' });
    expect(fake.held()).toBe(2);

    session.destroy(); // the client dies with its requests open (a SIGKILLed worker)
    expect(await statuses).toEqual([-1, -1]);
    // the fake sees the stream close on its side: no longer open, counted as cut off
    await vi.waitFor(() => expect(fake.held()).toBe(0), { timeout: 5_000, interval: 10 });
    expect(fake.release()).toBe(0); // nothing left to write, and no throw
    expect(fake.stats()).toMatchObject({ received: 2, requests: 0, delivered: 0, cutOff: 2 });
    expect(fake.requestsReceived('tok-cut-0')).toBe(1);
    expect(fake.deliveredTo('tok-cut-0')).toBe(0);

    // a held HTTP/1.1 request whose socket is destroyed: the same
    fake.hold();
    const h1 = new Promise<string>((resolve) => {
      const req = https.request(
        { host: fake.host, port: fake.port, servername: 'fcm.googleapis.com', ca: fake.ca, method: 'POST', path: `/v1/projects/${PROJECT}/messages:send`, headers: { authorization: 'Bearer x' } },
        () => resolve('answered'),
      );
      req.on('error', () => resolve('cut'));
      req.end(JSON.stringify({ message: { token: 'tok-cut-h1' } }));
      void fake.waitFor(3, { of: 'received' }).then(() => req.destroy());
    });
    expect(await h1).toBe('cut');
    await vi.waitFor(() => expect(fake.held()).toBe(0), { timeout: 5_000, interval: 10 });
    expect(fake.release()).toBe(0);
    expect(fake.stats()).toMatchObject({ received: 3, delivered: 0, cutOff: 3 });

    // the fake still answers
    const fresh = messaging('after-cut', redirectingAgent());
    await expect(fresh.send(urgent('tok-cut-0'))).resolves.toMatch(/messages\/\d+$/);
    expect(fake.requestsReceived('tok-cut-0')).toBe(2);
    expect(fake.deliveredTo('tok-cut-0')).toBe(1);
  });

  it('duplicates() counts requests received per token beyond the first, whatever their answers', async () => {
    fake.setOutcomes(({ token, attempt }) => (token === 'tok-dup-b' && attempt === 1 ? 'UNAVAILABLE' : 'ok'));
    const session = http2.connect(fake.origin.replace('127.0.0.1', 'localhost'), { ca: fake.ca });
    try {
      // a: once; b: three times (the first a 503); c: twice; d: held then cut, then sent again
      expect(await h2Send(session, 'tok-dup-a')).toBe(200);
      expect(await h2Send(session, 'tok-dup-b')).toBe(503);
      expect(await h2Send(session, 'tok-dup-b')).toBe(200);
      expect(await h2Send(session, 'tok-dup-b')).toBe(200);
      expect(await h2Send(session, 'tok-dup-c')).toBe(200);
      expect(await h2Send(session, 'tok-dup-c')).toBe(200);
      expect(fake.duplicates()).toBe(3); // b: 2, c: 1

      const doomed = http2.connect(fake.origin.replace('127.0.0.1', 'localhost'), { ca: fake.ca });
      doomed.on('error', () => {});
      fake.hold();
      const cut = h2Send(doomed, 'tok-dup-d');
      await fake.waitFor(7, { of: 'received' });
      doomed.destroy();
      expect(await cut).toBe(-1);
      await vi.waitFor(() => expect(fake.held()).toBe(0), { timeout: 5_000, interval: 10 });
      fake.release();
      expect(fake.duplicates()).toBe(3); // d received once: not a duplicate yet, although never delivered
      expect(await h2Send(session, 'tok-dup-d')).toBe(200);
      expect(fake.duplicates()).toBe(4); // received twice: a duplicate, though delivered once
      expect(fake.deliveredTo('tok-dup-d')).toBe(1);
      expect(fake.receivedTokens()).toEqual(
        new Map([
          ['tok-dup-a', 1],
          ['tok-dup-b', 3],
          ['tok-dup-c', 2],
          ['tok-dup-d', 2],
        ]),
      );
      expect(fake.receipts().map((r) => r.token)).toEqual([
        'tok-dup-a', 'tok-dup-b', 'tok-dup-b', 'tok-dup-b', 'tok-dup-c', 'tok-dup-c', 'tok-dup-d', 'tok-dup-d',
      ]);
      const at = fake.receipts().map((r) => r.at);
      expect(at).toEqual([...at].sort((a, b) => a - b));

      fake.reset();
      expect(fake.duplicates()).toBe(0);
      expect(fake.receipts()).toHaveLength(0);
    } finally {
      session.close();
    }
  });
});
