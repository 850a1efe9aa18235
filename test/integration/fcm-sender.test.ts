// The product's FCM sender (src/fcm) against the fake FCM over real TLS, verification on: HTTP/1.1 direct (test
// dial seam), HTTP/1.1 through a real CONNECT proxy with the extra CA file, and HTTP/2 (sendEach) through the
// in-process http2.connect redirect. What reached FCM is counted by the fake, not by the sender.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFcmMessage, type FcmNotification } from '../../src/adapters/fcm/fcm-message.js';
import { createFcmSender } from '../../src/adapters/fcm/fcm-sender.js';
import { startConnectProxy, type ConnectProxy } from '../support/fcm/connect-proxy.js';
import { startFakeFcm, type FakeFcm } from '../support/fcm/fake-fcm-server.js';
import { serviceAccountFile } from '../support/fcm/service-account.js';
import { checkMixed, credential, JOB, lowAdvice, MIXED, MIXED_TOKENS, PROJECT, senderFactory, urgentOutage } from '../support/fcm/sender-fixtures.js';
import { redirectFcmHttp2 } from '../support/fcm/redirect-http2.js';

let fake: FakeFcm;
let proxy: ConnectProxy;
const { sender, directSender, closeAll } = senderFactory('http1', () => fake);

// One token per scripted outcome; what the sender must answer for it.
beforeAll(async () => {
  fake = await startFakeFcm();
  proxy = await startConnectProxy({ target: { host: fake.host, port: fake.port } });
});

afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});

beforeEach(() => {
  fake.reset();
  fake.setOutcomes(undefined);
  fake.setLatency(0);
  proxy.reset();
});

afterEach(async () => {
  await closeAll();
});

describe('FCM sender, HTTP/1.1', () => {
  it('classifies a mixed batch per token; the fake counts exactly one request per token', async () => {
    fake.setOutcomes(MIXED);
    const outcomes = await directSender().sendBatch(MIXED_TOKENS.map((t) => buildFcmMessage(t, urgentOutage)));
    checkMixed(fake, outcomes, '1.1');
  });

  it('a 503 is not retried inside firebase-admin: it comes back at once as a retry outcome', async () => {
    fake.setOutcomes(({ attempt }) => (attempt === 1 ? 'UNAVAILABLE' : 'ok'));
    const s = directSender();
    const started = performance.now();
    expect(await s.sendBatch([buildFcmMessage('tok-flaky', urgentOutage)])).toEqual([expect.objectContaining({ kind: 'retry', code: 'UNAVAILABLE' })]);
    expect(performance.now() - started).toBeLessThan(400); // firebase-admin's own first retry waits 1 s
    expect(fake.attemptsFor('tok-flaky')).toBe(1);
    // the caller's retry delivers it
    expect(await s.sendBatch([buildFcmMessage('tok-flaky', urgentOutage)])).toEqual([expect.objectContaining({ kind: 'sent' })]);
    expect(fake.deliveredTo('tok-flaky')).toBe(1);
  });

  it('urgent goes as Android HIGH / APNs 10 with TTL and collapse key; low as NORMAL / 5', async () => {
    const outcomes = await directSender().sendBatch([buildFcmMessage('tok-urgent', urgentOutage), buildFcmMessage('tok-low', lowAdvice)]);
    expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent']);
    const byToken = new Map(fake.received.map((r) => [r.token, r]));
    expect(byToken.get('tok-urgent')).toMatchObject({ androidPriority: 'high', apnsPriority: '10', collapseKey: 'outage', data: { meter: '141', job_id: JOB, type: 'outage' } });
    expect(byToken.get('tok-urgent')?.message.android?.ttl).toBe('14400s');
    expect(byToken.get('tok-urgent')?.message.apns?.headers?.['apns-collapse-id']).toBe('outage');
    expect(byToken.get('tok-low')).toMatchObject({ androidPriority: 'normal', apnsPriority: '5', collapseKey: undefined, data: { job_id: JOB, type: 'advice' } });
    expect(byToken.get('tok-low')?.message.android?.ttl).toBe('604800s');
  });

  it('refuses a payload over 4096 bytes before sending; the rest of the batch goes', async () => {
    const tooBig = buildFcmMessage('tok-big', { ...lowAdvice, body: 'x'.repeat(4_100) });
    const outcomes = await directSender().sendBatch([buildFcmMessage('tok-small', lowAdvice), tooBig]);
    expect(outcomes[0]).toMatchObject({ kind: 'sent' });
    expect(outcomes[1]).toMatchObject({ kind: 'fail', code: 'PAYLOAD_TOO_LARGE', alert: true });
    expect(fake.stats().requests).toBe(1);
    expect(fake.attemptsFor('tok-big')).toBe(0);
  });

  it('bounds sends in flight (maxInFlight) and reuses keep-alive connections', async () => {
    fake.setLatency(25);
    let inFlight = 0;
    let peak = 0;
    fake.setOutcomes(() => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => inFlight--, 25);
      return 'ok';
    });
    const s = directSender({ maxInFlight: 4, maxSockets: 4 });
    const tokens = Array.from({ length: 40 }, (_, i) => `tok-bound-${i}`);
    const connectionsBefore = fake.stats().connections;
    const outcomes = await s.sendBatch(tokens.map((t) => buildFcmMessage(t, lowAdvice)));
    expect(outcomes.every((o) => o.kind === 'sent')).toBe(true);
    expect(peak).toBeLessThanOrEqual(4);
    expect(fake.stats().delivered).toBe(40);
    expect(fake.stats().connections - connectionsBefore).toBeLessThanOrEqual(4);
  });

  it('keeps TLS verification on: without the CA the fake is refused and nothing is sent (no token removed)', async () => {
    const s = sender({ dialOverride: { host: fake.host, port: fake.port } }); // Node's roots only
    const outcomes = await s.sendBatch([buildFcmMessage('tok-untrusted', urgentOutage)]);
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'fail', code: 'TLS', alert: true })]);
    expect(fake.stats().requests).toBe(0);
  });

  it('refuses more than 500 messages and sending after close', async () => {
    const s = directSender();
    const many = Array.from({ length: 501 }, (_, i) => buildFcmMessage(`t${i}`, lowAdvice));
    await expect(s.sendBatch(many)).rejects.toThrow(/at most 500/);
    await s.close();
    await expect(s.sendBatch([buildFcmMessage('t', lowAdvice)])).rejects.toThrow(/closed/);
  });

  it('gets its OAuth token with a service-account file through the same agent', async () => {
    const file = serviceAccountFile(PROJECT);
    const outcomes = await directSender({ credential: file }).sendBatch([buildFcmMessage('tok-sa', urgentOutage)]);
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'sent' })]);
    expect(fake.stats()).toMatchObject({ oauthTokens: 1, delivered: 1 });
  });
});

describe('FCM sender through the CONNECT proxy (the utility network path)', () => {
  it('works with the extra CA file: every send tunnelled to fcm.googleapis.com:443 and verified', async () => {
    fake.setOutcomes(MIXED);
    const s = sender({ proxyUrl: proxy.url, extraCaFile: fake.caFile });
    const outcomes = await s.sendBatch(MIXED_TOKENS.map((t) => buildFcmMessage(t, urgentOutage)));
    checkMixed(fake, outcomes, '1.1');
    expect(proxy.tunnels()).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.authorities())).toEqual(new Set(['fcm.googleapis.com:443']));
  });

  it('fails without the extra CA (verification on): nothing reaches the fake, tokens kept, alert', async () => {
    const s = sender({ proxyUrl: proxy.url });
    const outcomes = await s.sendBatch([buildFcmMessage('tok-p1', urgentOutage), buildFcmMessage('tok-p2', lowAdvice)]);
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'fail', code: 'TLS', alert: true }), expect.objectContaining({ kind: 'fail', code: 'TLS', alert: true })]);
    expect(proxy.tunnels()).toBeGreaterThanOrEqual(1); // the tunnel was opened, the certificate refused
    expect(fake.stats().requests).toBe(0);
  });
});

describe('FCM sender, HTTP/2 (sendEach)', () => {
  it('classifies the same mixed batch per token over HTTP/2', async () => {
    const redirect = redirectFcmHttp2({ port: fake.port, ca: fake.ca });
    try {
      fake.setOutcomes(MIXED);
      const s = sender({ transport: 'http2' });
      const outcomes = await s.sendBatch(MIXED_TOKENS.map((t) => buildFcmMessage(t, urgentOutage)));
      checkMixed(fake, outcomes, '2.0');
      expect(redirect.sessions()).toBe(1);
    } finally {
      redirect.restore();
    }
  });

  it('refuses a proxy, an extra CA file or the dial seam at creation (firebase-admin dials HTTP/2 itself)', () => {
    expect(() => createFcmSender({ projectId: PROJECT, credential, transport: 'http2', proxyUrl: proxy.url })).toThrow(/proxy/);
    expect(() => createFcmSender({ projectId: PROJECT, credential, transport: 'http2', extraCaFile: fake.caFile })).toThrow(/NODE_EXTRA_CA_CERTS/);
    expect(() => createFcmSender({ projectId: PROJECT, credential, transport: 'http2', dialOverride: { host: fake.host, port: fake.port } })).toThrow(/dialOverride/);
  });
});
