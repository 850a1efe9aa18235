// With Redis stopped, the brute-force defences still hold: the per-account lockout lives in PostgreSQL,
// and the per-IP limit falls back to this process's own counters.
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { ManualClock } from '../../src/clock.js';
import type { SmsMessage } from '../../src/contracts/sms-messages.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, startPrivateRedis, type PrivateRedis, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const clock = new ManualClock(Date.UTC(2026, 10, 25, 8));
let db: TestDatabase;
let redis: PrivateRedis;
let node: RunningNode;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = await startPrivateRedis();
  node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: redis.url, TRUSTED_PROXY_HOPS: '1' }, { clock, hasher: bcryptPinHasher(4) });
  await waitFor('ready with Redis', () => node.runtime.readiness('test').parts.every((p) => p.state === 'running'));
});
afterAll(async () => {
  await node?.stop();
  await redis?.stop();
  await db?.drop();
});

const post = async (path: string, body: unknown, ip: string) => {
  const res = await fetch(`${node.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

it('locks an account after five wrong PINs and limits an address while Redis is stopped', async () => {
  const phone = '+221771000100';
  expect((await post('/v1/auth/register', { phone, firstName: 'Fatou', lastName: 'Sow', pin: '8642' }, '192.0.2.1')).status).toBe(202);
  const sent = await node.runtime.ask<SmsMessage, 'sandbox-outbox'>('sms', 'sandbox-outbox', { to: phone }, 1000);
  const code = /(\d{6})/.exec(sent.at(-1)!.text)![1]!;
  expect((await post('/v1/auth/verify-phone', { phone, code, pin: '8642' }, '192.0.2.1')).status).toBe(200);

  // With Redis up, one address is limited across the node (the counters live in Redis).
  const device0 = { deviceModel: 'Phone', platform: 'android' };
  let limited = 0;
  for (let i = 0; i < 61; i++) limited = (await post('/v1/auth/login', { phone: '+221779999992', pin: '0000', ...device0 }, '192.0.2.9')).status;
  expect(limited).toBe(429);
  const keys = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: redis.port }, () => s.write('KEYS samaconso:ip:login*\r\n'));
    s.once('data', (d) => {
      resolve(d.toString());
      s.destroy();
    });
    s.once('error', reject);
  });
  expect(keys).toContain('192.0.2.9');

  await redis.stop();
  await waitFor('cache backing off', () => node.runtime.readiness('test').parts.find((p) => p.name === 'cache')?.state === 'backing-off');
  const device = { deviceModel: 'Phone', platform: 'android' };
  for (let i = 0; i < 5; i++) expect((await post('/v1/auth/login', { phone, pin: '0000', ...device }, '192.0.2.2')).status).toBe(401);
  expect(await post('/v1/auth/login', { phone, pin: '8642', ...device }, '192.0.2.3')).toMatchObject({ status: 429, body: { code: 'ACCOUNT_LOCKED' } });
  clock.advance(60_000);
  expect((await post('/v1/auth/login', { phone, pin: '8642', ...device }, '192.0.2.3')).status).toBe(200);

  let last = 0;
  for (let i = 0; i < 61; i++) last = (await post('/v1/auth/login', { phone: '+221779999991', pin: '0000', ...device }, '192.0.2.4')).status;
  expect(last).toBe(429);
});
