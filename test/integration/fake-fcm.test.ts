// firebase-admin against the fake FCM, for real, with TLS verification on: HTTP/1.1 through a redirecting agent,
// HTTP/1.1 through a CONNECT proxy (the utility's network path), HTTP/2 (sendEach) through an in-process
// http2.connect redirect, and FCM's error answers surfacing as firebase-admin's error codes. No product code.
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { deleteApp, initializeApp, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Message, type Messaging } from 'firebase-admin/messaging';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
