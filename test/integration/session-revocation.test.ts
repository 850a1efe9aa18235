// Ending a session (logout, PIN change, PIN reset, account deletion) takes effect at once for its access tokens and
// its live sockets on every API instance: two real nodes on one PostgreSQL and one Redis (a private one the test
// stops and starts), each serving its own HTTP port. While Redis is down the revocation still holds (PostgreSQL
// lookup), and after Redis returns it holds without PostgreSQL (rebuilt from PostgreSQL on reconnect).
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import type { LiveHubMessage } from '../../src/contracts/live-messages.js';
import type { SmsMessage } from '../../src/contracts/sms-messages.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, startPrivateRedis, type PrivateRedis, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const hasher = bcryptPinHasher(4);
let db: TestDatabase;
let redis: PrivateRedis;
let sql: pg.Client;
let a: RunningNode;
let b: RunningNode;
let nextPhone = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = await startPrivateRedis();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const env = { ROLE: 'api', DATABASE_URL: db.url, REDIS_URL: redis.url, TRUSTED_PROXY_HOPS: '1' };
  [a, b] = await Promise.all([startTestNode(env, { hasher }), startTestNode(env, { hasher })]);
  await waitFor('both ready', () => a.runtime.readiness('test').ready && b.runtime.readiness('test').ready);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await sql?.end();
  await redis?.stop();
  await db?.drop();
});

const call = async (node: RunningNode, method: string, path: string, body?: unknown, token?: string) => {
  const res = await fetch(`${node.apiUrl}${path}`, {
    method,
    headers: {
      'x-forwarded-for': `203.0.113.${(nextPhone % 200) + 1}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
};

/** A proved customer, made in SQL; returns the phone. */
async function customer(pin = '8351'): Promise<string> {
  const phone = `+2217755${String(++nextPhone).padStart(5, '0')}`;
  await sql.query(`INSERT INTO users (id, phone, first_name, last_name, pin_hash, role, phone_proved_at, created_at) VALUES (gen_random_uuid(), $1, 'Awa', 'Diop', $2, 'customer', now(), now())`, [
    phone,
    await hasher.hash(pin),
  ]);
  return phone;
}

async function login(node: RunningNode, phone: string, device = 'Phone', pin = '8351'): Promise<{ accessToken: string; refreshToken: string }> {
  const r = await call(node, 'POST', '/v1/auth/login', { phone, pin, deviceModel: device, platform: 'android' });
  expect(r.status).toBe(200);
  return r.body as { accessToken: string; refreshToken: string };
}

/** Status of GET /v1/me with this token on this node. */
const me = async (node: RunningNode, token: string) => (await call(node, 'GET', '/v1/me', undefined, token)).status;

/** An open live socket; `closed` resolves with the close code, or -1 if it is still open after `withinMs`. */
function openLive(node: RunningNode, token: string): Promise<{ closedWithin: (withinMs: number) => Promise<number> }> {
  const ws = new WebSocket(`${node.apiUrl!.replace('http', 'ws')}/v1/me/notifications/live`, { headers: { Authorization: `Bearer ${token}` } });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const closedWithin = async (withinMs: number): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([closed, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), withinMs)))]);
    clearTimeout(timer);
    ws.terminate();
    return code;
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ closedWithin }));
    ws.once('error', reject);
  });
}

describe('ending a session reaches every API instance at once', () => {
  it('logout on one instance: the access token is refused on both at once', async () => {
    const phone = await customer();
    const t = await login(a, phone);
    expect(await me(b, t.accessToken)).toBe(200);
    expect((await call(a, 'POST', '/v1/auth/logout', {}, t.accessToken)).status).toBe(200);
    expect(await me(a, t.accessToken)).toBe(401);
    await waitFor('refused on the other instance', async () => (await me(b, t.accessToken)) === 401, 2_000);
  });

  it("PIN change ends the other devices' access tokens on both instances; the device that changed it keeps working", async () => {
    const phone = await customer();
    const first = await login(a, phone, 'Phone 1');
    const second = await login(b, phone, 'Phone 2');
    expect((await call(a, 'PUT', '/v1/me/pin', { currentPin: '8351', newPin: '7294' }, first.accessToken)).status).toBe(200);
    await waitFor('refused on both', async () => (await me(a, second.accessToken)) === 401 && (await me(b, second.accessToken)) === 401, 2_000);
    expect(await me(b, first.accessToken)).toBe(200);
  });

  it("PIN reset and account deletion end every one of the account's access tokens on both instances", async () => {
    const phone = await customer();
    const before = await login(a, phone);
    expect((await call(b, 'POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
    const sent = await b.runtime.ask<SmsMessage, 'sandbox-outbox'>('sms', 'sandbox-outbox', { to: phone }, 1_000);
    const code = /(\d{6})/.exec(sent.at(-1)!.text)![1]!;
    expect((await call(b, 'POST', '/v1/auth/pin-reset/confirm', { phone, code, newPin: '7294' })).status).toBe(200);
    await waitFor('reset reaches both', async () => (await me(a, before.accessToken)) === 401 && (await me(b, before.accessToken)) === 401, 2_000);

    const after = await login(a, phone, 'Phone', '7294');
    expect((await call(b, 'DELETE', '/v1/me', { pin: '7294' }, after.accessToken)).status).toBe(204);
    await waitFor('deletion reaches both', async () => (await me(a, after.accessToken)) === 401 && (await me(b, after.accessToken)) === 401, 2_000);
  });

  it('closes the live sockets of an ended session held by the other instance', async () => {
    const phone = await customer();
    const t = await login(a, phone);
    const socket = await openLive(b, t.accessToken);
    expect((await call(a, 'POST', '/v1/auth/logout', {}, t.accessToken)).status).toBe(200);
    expect(await socket.closedWithin(3_000)).toBe(4401);
  });
});

describe('ending a session while Redis is down', () => {
  it('is enforced during the outage (PostgreSQL lookup) and after Redis returns (rebuilt from PostgreSQL)', async () => {
    const phone = await customer();
    const t = await login(a, phone);
    expect(await me(b, t.accessToken)).toBe(200);
    await redis.stop();
    try {
      expect((await call(a, 'POST', '/v1/auth/logout', {}, t.accessToken)).status).toBe(200);
      expect(await me(b, t.accessToken)).toBe(401);
    } finally {
      await redis.start();
    }
    const busUp = async (node: RunningNode) => (await node.runtime.ask<LiveHubMessage, 'stats'>('live-hub', 'stats', {}, 500).catch(() => undefined))?.busUp === true;
    await waitFor('the bus is up again on both', async () => (await busUp(a)) && (await busUp(b)), 10_000);
    // The announcement was lost with Redis; b must know from PostgreSQL, also now that it trusts Redis again.
    expect(await me(b, t.accessToken)).toBe(401);
    // And a logout made now, with Redis back, reaches b through Redis.
    const t2 = await login(a, phone, 'Phone 2');
    expect(await me(b, t2.accessToken)).toBe(200);
    expect((await call(a, 'POST', '/v1/auth/logout', {}, t2.accessToken)).status).toBe(200);
    await waitFor('refused on b', async () => (await me(b, t2.accessToken)) === 401, 2_000);
  });
});
