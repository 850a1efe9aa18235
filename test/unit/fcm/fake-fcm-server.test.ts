// The fake FCM and the CONNECT proxy on their own, with plain Node clients (TLS verified against the test CA).
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy } from '../../support/fcm/connect-proxy.js';
import { errorBody, startFakeFcm, type FakeFcm } from '../../support/fcm/fake-fcm-server.js';
import { testCa } from '../../support/fcm/test-ca.js';

let fake: FakeFcm;
beforeAll(async () => {
  fake = await startFakeFcm({
    outcomes: { gone: 'UNREGISTERED', busy: 'QUOTA_EXCEEDED' },
    quotaRetryAfterSeconds: 7,
  });
});
afterAll(() => fake?.close());

function h1Send(token: string, auth = true): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: fake.port,
        servername: 'fcm.googleapis.com',
        ca: fake.ca,
        method: 'POST',
        path: '/v1/projects/p/messages:send',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: 'Bearer x' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ message: { token, android: { priority: 'high' }, data: { a: '1' } } }));
  });
}

describe('fake FCM server', () => {
  it('caches one test CA per process', async () => {
    expect(await testCa()).toBe(await testCa());
  });

  it('answers a send like FCM v1 over HTTP/1.1 and records it', async () => {
    const res = await h1Send('fine');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: expect.stringMatching(/^projects\/p\/messages\/\d+$/) });
    expect(fake.received.at(-1)).toMatchObject({ token: 'fine', androidPriority: 'high', httpVersion: '1.1', data: { a: '1' } });
  });

  it('answers scripted errors with FCM\'s body; 429 carries Retry-After', async () => {
    const gone = await h1Send('gone');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual(errorBody('UNREGISTERED'));
    const busy = await h1Send('busy');
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('7');
    expect((await h1Send('fine', false)).status).toBe(401);
  });

  it('speaks HTTP/2; Node\'s HTTP/2 server resets a stream with :scheme "https:" (why redirectFcmHttp2 normalises it)', async () => {
    const session = http2.connect(fake.origin.replace('127.0.0.1', 'localhost'), { ca: fake.ca });
    try {
      const send = (scheme: string): Promise<number> =>
        new Promise((resolve) => {
          const req = session.request({
            ':method': 'POST',
            ':path': '/v1/projects/p/messages:send',
            ':scheme': scheme,
            authorization: 'Bearer x',
          });
          req.on('response', (headers) => resolve(Number(headers[':status'])));
          req.on('error', () => resolve(-1));
          req.resume();
          req.end(JSON.stringify({ message: { token: 'h2' } }));
        });
      expect(await send('https')).toBe(200);
      expect(await send('https:')).toBe(-1);
      expect(fake.received.at(-1)).toMatchObject({ token: 'h2', httpVersion: '2.0' });
    } finally {
      session.close();
    }
  });

  it('keeps counters only with record: "counts"', async () => {
    const counting = await startFakeFcm({ record: 'counts', latencyMs: 5 });
    try {
      const other = fake;
      fake = counting;
      await Promise.all([h1Send('a'), h1Send('a'), h1Send('b')]);
      fake = other;
      expect(counting.received).toHaveLength(0);
      expect(counting.stats()).toMatchObject({ requests: 3, delivered: 3 });
      expect(counting.deliveredTo('a')).toBe(2);
    } finally {
      await counting.close();
    }
  });
});

describe('CONNECT proxy', () => {
  it('tunnels any CONNECT to its target and refuses plain requests', async () => {
    const proxy = await startConnectProxy({ target: { host: fake.host, port: fake.port } });
    try {
      const plain = await fetch(`${proxy.url}/`);
      expect(plain.status).toBe(405);
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: 'example.invalid:443' });
        req.on('connect', (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(proxy.authorities()).toEqual(['example.invalid:443']);
      expect(proxy.tunnels()).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});
