// The FCM sender's 'http2-session' transport (one HTTP/2 session kept open across batches) against the fake FCM
// over real TLS, verification on: direct (test dial seam, servername kept) and through the real CONNECT proxy with
// the test CA as the extra CA file. Sessions, connections and tunnels are counted by the fake and the proxy, not
// by the sender. No redirectFcmHttp2 here: this client sends `:scheme: https` itself, which the fake accepts.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFcmMessage, type FcmMessage, type FcmNotification } from '../../src/adapters/fcm/fcm-message.js';
import type { FcmOutcome } from '../../src/adapters/fcm/fcm-outcome.js';
import type { FcmSender, FcmSenderOptions } from '../../src/adapters/fcm/fcm-sender.js';
import { startConnectProxy, type ConnectProxy } from '../support/fcm/connect-proxy.js';
import { startFakeFcm, type FakeFcm } from '../support/fcm/fake-fcm-server.js';
import { serviceAccountFile } from '../support/fcm/service-account.js';
import { waitFor } from '../support/wait.js';
import { checkMixed, credential, JOB, lowAdvice, MIXED, MIXED_TOKENS, PROJECT, senderFactory, urgentOutage } from '../support/fcm/sender-fixtures.js';

let fake: FakeFcm;
let proxy: ConnectProxy;
const { sender, directSender, closeAll } = senderFactory('http2-session', () => fake);

/** Through the CONNECT proxy, trusting the test CA file (added to Node's roots). */
function proxiedSender(options: Partial<FcmSenderOptions> = {}): FcmSender {
  return sender({ proxyUrl: proxy.url, extraCaFile: fake.caFile, ...options });
}

const messages = (prefix: string, n: number, notification: FcmNotification = lowAdvice): FcmMessage[] =>
  Array.from({ length: n }, (_, i) => buildFcmMessage(`${prefix}-${i}`, notification));

const kinds = (outcomes: readonly FcmOutcome[]): Record<string, number> =>
  outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o.kind]: (acc[o.kind] ?? 0) + 1 }), {});

// One token per scripted outcome; what the sender must answer for it.
beforeAll(async () => {
  fake = await startFakeFcm();
  proxy = await startConnectProxy({ target: { host: fake.host, port: fake.port } });
});

afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});

beforeEach(async () => {
  await closeAll();
  fake.endSessions('destroy');
  await waitFor('no session left open', () => fake.openSessions() === 0);
  fake.reset();
  fake.setOutcomes(undefined);
  fake.setLatency(0);
  proxy.reset();
});

afterEach(async () => {
  await closeAll();
});

describe("FCM sender, 'http2-session' direct", () => {
  it('sends a batch of 500 on one HTTP/2 session', async () => {
    const before = fake.stats();
    const outcomes = await directSender().sendBatch(messages('tok-500', 500));
    expect(kinds(outcomes)).toEqual({ sent: 500 });
    expect(new Set(outcomes.map((o) => (o.kind === 'sent' ? o.messageId : undefined))).size).toBe(500);
    expect(fake.stats()).toMatchObject({ requests: 500, delivered: 500, byHttpVersion: { '2.0': 500 } });
    expect(fake.stats().connections - before.connections).toBe(1);
    expect(fake.stats().sessions - before.sessions).toBe(1);
  });

  it('classifies a mixed batch per token from the status, Retry-After and FCM error body', async () => {
    fake.setOutcomes(MIXED);
    checkMixed(fake, await directSender().sendBatch(MIXED_TOKENS.map((t) => buildFcmMessage(t, urgentOutage))), '2.0');
  });

  it('sends the message as firebase-admin would put it on the wire (validateMessage rewrites it)', async () => {
    await directSender().sendBatch([buildFcmMessage('tok-urgent', urgentOutage), buildFcmMessage('tok-low', lowAdvice)]);
    const byToken = new Map(fake.received.map((r) => [r.token, r]));
    expect(byToken.get('tok-urgent')).toMatchObject({ androidPriority: 'high', apnsPriority: '10', collapseKey: 'outage', data: { meter: '141', job_id: JOB, type: 'outage' } });
    expect(byToken.get('tok-urgent')?.message.android?.ttl).toBe('14400s');
    expect(byToken.get('tok-low')).toMatchObject({ androidPriority: 'normal', apnsPriority: '5', collapseKey: undefined });
    expect(byToken.get('tok-low')?.message.android?.ttl).toBe('604800s');
  });

  it('reuses ONE session across several batches (the fake sees one connection)', async () => {
    const before = fake.stats();
    const s = directSender();
    for (let batch = 0; batch < 5; batch++) expect(kinds(await s.sendBatch(messages(`tok-reuse-${batch}`, 100)))).toEqual({ sent: 100 });
    // and concurrently: three batches at once still share it
    const together = await Promise.all([0, 1, 2].map((b) => s.sendBatch(messages(`tok-together-${b}`, 200))));
    expect(together.map(kinds)).toEqual([{ sent: 200 }, { sent: 200 }, { sent: 200 }]);
    expect(fake.stats().delivered).toBe(1_100);
    expect(fake.stats().connections - before.connections).toBe(1);
    expect(fake.stats().sessions - before.sessions).toBe(1);
  });

  it('bounds streams in flight (maxInFlight)', async () => {
    fake.setLatency(20);
    let inFlight = 0;
    let peak = 0;
    fake.setOutcomes(() => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => inFlight--, 20);
      return 'ok';
    });
    const outcomes = await directSender({ maxInFlight: 4 }).sendBatch(messages('tok-bound', 40));
    expect(kinds(outcomes)).toEqual({ sent: 40 });
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThanOrEqual(2);
  });

  it('server drops the session mid-run: messages in flight come back as retry, the next batch reconnects', async () => {
    fake.setLatency(300);
    const s = directSender();
    const before = fake.stats();
    const pending = s.sendBatch(messages('tok-cut', 50));
    await waitFor('the session to be up', () => fake.openSessions() === 1);
    await new Promise((r) => setTimeout(r, 100)); // the 50 streams are at the fake, unanswered
    fake.endSessions('destroy');
    const outcomes = await pending;
    expect(outcomes).toHaveLength(50);
    for (const o of outcomes) expect(o).toMatchObject({ kind: 'retry', code: 'NETWORK', retryAfterMs: 0 });
    expect(fake.stats().delivered).toBe(0);

    fake.setLatency(0);
    expect(kinds(await s.sendBatch(messages('tok-cut', 50)))).toEqual({ sent: 50 });
    expect(fake.stats().sessions - before.sessions).toBe(2);
  });

  it('server sends GOAWAY mid-batch: streams already started finish, the rest go on a new session', async () => {
    fake.setLatency(30);
    const s = directSender({ maxInFlight: 20 });
    const before = fake.stats();
    const pending = s.sendBatch(messages('tok-goaway', 200));
    await fake.waitFor(40, { of: 'requests' });
    expect(fake.endSessions('goaway')).toBe(1);
    const outcomes = await pending;
    // A stream the client opened after the server's GOAWAY left but before it arrived is refused: retried,
    // never lost, never removed. The loopback race makes that rare; most or all are sent.
    for (const o of outcomes) expect(['sent', 'retry']).toContain(o.kind);
    expect(kinds(outcomes).sent).toBeGreaterThanOrEqual(180);
    expect(fake.stats().sessions - before.sessions).toBe(2);
    expect(kinds(await s.sendBatch(messages('tok-after-goaway', 50)))).toEqual({ sent: 50 });
    expect(fake.stats().sessions - before.sessions).toBe(2);
  });

  it('closes an idle session and reopens on the next batch; close() ends it', async () => {
    const s = directSender({ sessionIdleTimeoutMs: 150 });
    const before = fake.stats();
    expect(kinds(await s.sendBatch(messages('tok-idle-a', 10)))).toEqual({ sent: 10 });
    expect(fake.openSessions()).toBe(1);
    await waitFor('the idle session to close', () => fake.openSessions() === 0, 3_000);
    expect(kinds(await s.sendBatch(messages('tok-idle-b', 10)))).toEqual({ sent: 10 });
    expect(fake.stats().sessions - before.sessions).toBe(2);
    await s.close();
    await waitFor('close() to end the session', () => fake.openSessions() === 0, 3_000);
    await expect(s.sendBatch(messages('tok-idle-c', 1))).rejects.toThrow(/closed/);
  });

  it("rejects an invalid message with firebase-admin's own validation, before any request", async () => {
    const invalid = { token: 'tok-bad-data', data: { count: 3 } } as unknown as FcmMessage; // data values must be strings
    const badTtl: FcmMessage = { token: 'tok-bad-ttl', android: { ttl: -1 } };
    // What firebase-admin's own send() throws for them (it validates before any request; the app is never used).
    const app = initializeApp({ credential, projectId: PROJECT }, `validation-reference-${process.pid}`);
    const reference = await Promise.all(
      [invalid, badTtl].map((m) =>
        (async () => getMessaging(app).send(m))().then(
          () => undefined,
          (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
        ),
      ),
    );
    await deleteApp(app);
    expect(reference).toEqual([expect.stringMatching(/^messaging\/invalid-payload: /), expect.stringMatching(/^messaging\/invalid-payload: /)]);

    const before = fake.stats();
    const s = directSender();
    const alone = await s.sendBatch([invalid, badTtl]);
    expect(alone).toEqual([
      { kind: 'fail', code: 'INVALID_PAYLOAD', alert: true, detail: reference[0] },
      { kind: 'fail', code: 'INVALID_PAYLOAD', alert: true, detail: reference[1] },
    ]);
    expect(fake.stats().requests).toBe(0);
    expect(fake.stats().connections - before.connections).toBe(0); // not even a connection

    const mixed = await s.sendBatch([buildFcmMessage('tok-good', lowAdvice), invalid]);
    expect(mixed.map((o) => o.kind)).toEqual(['sent', 'fail']);
    expect(fake.stats().requests).toBe(1);
    expect(fake.attemptsFor('tok-bad-data')).toBe(0);
  });

  it('keeps TLS verification on: a server certificate from an unknown CA fails, nothing is sent', async () => {
    const s = sender({ dialOverride: { host: fake.host, port: fake.port } }); // Node's roots only
    const outcomes = await s.sendBatch(messages('tok-untrusted', 3, urgentOutage));
    expect(outcomes).toEqual(Array(3).fill(expect.objectContaining({ kind: 'fail', code: 'TLS', alert: true })));
    expect(fake.stats().requests).toBe(0);
  });

  it('gets its OAuth token with a service-account file once, and reuses it across batches', async () => {
    const file = serviceAccountFile(PROJECT);
    const s = directSender({ credential: file });
    expect(kinds(await s.sendBatch(messages('tok-sa-a', 5)))).toEqual({ sent: 5 });
    expect(kinds(await s.sendBatch(messages('tok-sa-b', 5)))).toEqual({ sent: 5 });
    expect(fake.stats()).toMatchObject({ oauthTokens: 1, delivered: 10 });
  });

  it('spreads a batch over several sessions when asked to (sessions: 2), all answered', async () => {
    const s = directSender({ sessions: 2 });
    const sessionsBefore = fake.stats().sessions;
    expect(kinds(await s.sendBatch(messages('tok-two', 20)))).toEqual({ sent: 20 });
    expect(fake.stats().sessions - sessionsBefore).toBe(2);
    expect(kinds(await s.sendBatch(messages('tok-two-b', 20)))).toEqual({ sent: 20 });
    expect(fake.stats().sessions - sessionsBefore).toBe(2); // kept open, reused
  });

  it('warm() fetches the token and opens the session before any send; the first batch then opens nothing', async () => {
    const s = directSender({ credential: serviceAccountFile(PROJECT) });
    const sessionsBefore = fake.stats().sessions;
    await s.warm();
    expect(fake.stats()).toMatchObject({ oauthTokens: 1, sessions: sessionsBefore + 1, requests: 0 });
    expect(kinds(await s.sendBatch(messages('tok-warm', 3)))).toEqual({ sent: 3 });
    expect(fake.stats()).toMatchObject({ oauthTokens: 1, sessions: sessionsBefore + 1, delivered: 3 });
  });
});

describe("FCM sender, 'http2-session' in a worker thread (as in the dispatch pool)", () => {
  it('sends through the proxy from a worker thread, one tunnel for its batches', async () => {
    // Worker threads start as plain Node: register tsx in the thread first (as src/adapters/fcm/pool-worker-source.mjs does).
    const bootstrap = `
      const { workerData } = await import('node:worker_threads');
      const { register } = await import(workerData.tsxApi);
      register();
      await import(workerData.entry);
    `;
    const worker = new Worker(bootstrap, {
      eval: true,
      workerData: {
        tsxApi: pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs')).href,
        entry: new URL('../support/fcm/sender-in-worker.ts', import.meta.url).href,
        options: { projectId: PROJECT, transport: 'http2-session', proxyUrl: proxy.url, extraCaFile: fake.caFile },
        tokens: Array.from({ length: 100 }, (_, i) => `tok-worker-${i}`),
        batches: 3,
      },
    });
    const result = await new Promise<{ kinds: string[][] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
    });
    await worker.terminate();
    expect(result.kinds.map((k) => k.filter((kind) => kind === 'sent').length)).toEqual([100, 100, 100]);
    expect(fake.stats().delivered).toBe(300);
    expect(proxy.tunnels()).toBe(1);
  });
});

describe("FCM sender, 'http2-session' through the CONNECT proxy", () => {
  it('sends 500 and the mixed outcomes through ONE tunnel to fcm.googleapis.com:443, across batches', async () => {
    const s = proxiedSender();
    expect(kinds(await s.sendBatch(messages('tok-proxy', 500)))).toEqual({ sent: 500 });
    fake.reset();
    fake.setOutcomes(MIXED);
    checkMixed(fake, await s.sendBatch(MIXED_TOKENS.map((t) => buildFcmMessage(t, urgentOutage))), '2.0');
    fake.setOutcomes(undefined);
    expect(kinds(await s.sendBatch(messages('tok-proxy-3', 100)))).toEqual({ sent: 100 });
    expect(proxy.tunnels()).toBe(1);
    expect(proxy.authorities()).toEqual(['fcm.googleapis.com:443']);
    expect(proxy.openTunnels()).toBe(1);
  });

  it('opens a new tunnel after the session is cut; the cut messages come back as retry', async () => {
    fake.setLatency(300);
    const s = proxiedSender();
    const pending = s.sendBatch(messages('tok-proxy-cut', 30));
    await waitFor('the session to be up', () => fake.openSessions() === 1);
    await new Promise((r) => setTimeout(r, 100));
    fake.endSessions('destroy');
    const outcomes = await pending;
    for (const o of outcomes) expect(o).toMatchObject({ kind: 'retry', code: 'NETWORK' });
    fake.setLatency(0);
    expect(kinds(await s.sendBatch(messages('tok-proxy-cut', 30)))).toEqual({ sent: 30 });
    expect(proxy.tunnels()).toBe(2);
  });

  it('fails without the extra CA (verification on): tunnel opened, certificate refused, nothing sent', async () => {
    const s = sender({ proxyUrl: proxy.url });
    const outcomes = await s.sendBatch(messages('tok-proxy-untrusted', 2, urgentOutage));
    expect(outcomes).toEqual(Array(2).fill(expect.objectContaining({ kind: 'fail', code: 'TLS', alert: true })));
    expect(proxy.tunnels()).toBe(1);
    expect(fake.stats().requests).toBe(0);
  });

  it('a proxy that refuses the tunnel gives retry outcomes (network), not a throw', async () => {
    const refusing = await startConnectProxy({ target: { host: '127.0.0.1', port: 1 } }); // upstream refused → 502
    try {
      const s = sender({ proxyUrl: refusing.url, extraCaFile: fake.caFile });
      const outcomes = await s.sendBatch(messages('tok-proxy-502', 2));
      expect(outcomes).toEqual(Array(2).fill(expect.objectContaining({ kind: 'retry', code: 'NETWORK' })));
      expect(outcomes[0]).toMatchObject({ detail: expect.stringMatching(/502/) });
    } finally {
      await refusing.close();
    }
  });
});
