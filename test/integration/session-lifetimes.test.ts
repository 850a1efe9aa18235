// Sessions end: an agent's at an absolute lifetime from its login that refreshing never extends, re-checked
// against the real directory (slapd) at refresh once the last check is older than the recheck interval; a
// customer's slides but has an absolute cap too. On the manual clock; the directory is reached through a TCP
// relay the test can cut, so "the directory is unreachable" is a real refused connection.
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { decodeJwt } from 'jose';
import { Attribute, Change, Client } from 'ldapts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { ManualClock } from '../../src/clock.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const clock = new ManualClock(Date.UTC(2026, 11, 1, 8));
const hasher = bcryptPinHasher(4);
let db: TestDatabase;
let node: RunningNode;
let relay: DirectoryRelay;

/** A TCP relay to slapd that can refuse connections (the directory "down") and accept them again. */
interface DirectoryRelay {
  readonly url: string;
  up: boolean;
  close(): Promise<void>;
}

async function directoryRelay(): Promise<DirectoryRelay> {
  const target = new URL(servicesEnv().TEST_LDAP_URL);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (!relay.up) return void socket.destroy();
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    upstream.on('error', () => socket.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay: DirectoryRelay = {
    url: `ldap://127.0.0.1:${(server.address() as { port: number }).port}`,
    up: true,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}

/** Adds, changes and removes agents' entries as the directory's administrator. */
async function asDirectoryAdmin(work: (client: Client, agentsDn: string) => Promise<void>): Promise<void> {
  const env = servicesEnv();
  if (!env.TEST_LDAP_ADMIN_DN || !env.TEST_LDAP_ADMIN_PASSWORD) throw new Error('no LDAP admin settings: run `bash ops/services.sh start` again');
  const client = new Client({ url: env.TEST_LDAP_URL, timeout: 5_000, connectTimeout: 5_000 });
  try {
    await client.bind(env.TEST_LDAP_ADMIN_DN, env.TEST_LDAP_ADMIN_PASSWORD);
    await work(client, `ou=agents,${env.TEST_LDAP_BASE_DN}`);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** A fresh agent entry of this test run; returns its login and password. */
async function newAgent(agency: string): Promise<{ login: string; password: string }> {
  const login = `t${randomBytes(5).toString('hex')}`;
  const password = `Pass-${randomBytes(6).toString('hex')}`;
  await asDirectoryAdmin((c, base) =>
    c.add(`uid=${login},${base}`, { objectClass: 'inetOrgPerson', uid: login, cn: 'Test Agent', sn: 'Agent', departmentNumber: agency, userPassword: password }),
  );
  return { login, password };
}

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${node.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
};

/** A customer with a proved phone and this PIN, straight in the database. */
async function newCustomer(phone: string, pin: string): Promise<void> {
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  try {
    await sql.query(`INSERT INTO users (id, phone, first_name, last_name, pin_hash, role, phone_proved_at, created_at) VALUES (gen_random_uuid(), $1, 'Awa', 'Diop', $2, 'customer', $3, $3)`, [
      phone,
      await hasher.hash(pin),
      new Date(clock.now()),
    ]);
  } finally {
    await sql.end();
  }
}

const agentLogin = async (a: { login: string; password: string }) => {
  const res = await post('/v1/auth/agent-login', { ...a, deviceModel: 'Back-office PC', platform: 'web' });
  expect(res.status).toBe(200);
  return res.body as { accessToken: string; refreshToken: string };
};

beforeAll(async () => {
  db = await createTestDatabase();
  relay = await directoryRelay();
  const env = servicesEnv();
  node = await startTestNode(
    { DATABASE_URL: db.url, REDIS_URL: undefined, LDAP_URL: relay.url, LDAP_BIND_DN: env.TEST_LDAP_BIND_DN, LDAP_BIND_PASSWORD: env.TEST_LDAP_BIND_PASSWORD, LDAP_BASE_DN: env.TEST_LDAP_BASE_DN, LDAP_TIMEOUT_MS: '2000' },
    { clock, hasher },
  );
  await waitFor('ready', () => node.runtime.readiness('test').ready);
});
afterAll(async () => {
  await node?.stop();
  await relay?.close();
  await db?.drop();
});

describe('agent sessions', () => {
  it('end at their absolute lifetime from login (12 h), however often they refresh', async () => {
    let pair = await agentLogin(await newAgent('DAKAR1'));
    for (let hour = 1; hour <= 11; hour++) {
      clock.advance(HOUR);
      const r = await post('/v1/auth/refresh', { refreshToken: pair.refreshToken });
      expect(r.status, `refresh after ${hour} h`).toBe(200);
      pair = r.body as typeof pair;
    }
    clock.advance(HOUR + 1_000); // 12 h and a second after the login
    expect(await post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).toMatchObject({ status: 401, body: { code: 'INVALID_REFRESH_TOKEN' } });
  });

  it('end at the next refresh once the directory no longer has the agent (checked again after an hour)', async () => {
    const agent = await newAgent('DAKAR1');
    const pair = await agentLogin(agent);
    await asDirectoryAdmin((c, base) => c.del(`uid=${agent.login},${base}`));
    clock.advance(HOUR + 1_000);
    expect(await post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).toMatchObject({ status: 401, body: { code: 'INVALID_REFRESH_TOKEN' } });
  });

  it("carry the directory's new agency into the next access token once it is checked again", async () => {
    const agent = await newAgent('DAKAR1');
    const pair = await agentLogin(agent);
    expect(decodeJwt(pair.accessToken).agency).toBe('DAKAR1');
    await asDirectoryAdmin((c, base) => c.modify(`uid=${agent.login},${base}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'departmentNumber', values: ['THIES1'] }) })));
    clock.advance(HOUR + 1_000);
    const r = await post('/v1/auth/refresh', { refreshToken: pair.refreshToken });
    expect(r.status).toBe(200);
    expect(decodeJwt((r.body as { accessToken: string }).accessToken).agency).toBe('THIES1');
    const me = await fetch(`${node.apiUrl}/v1/me`, { headers: { authorization: `Bearer ${(r.body as { accessToken: string }).accessToken}` } });
    expect(((await me.json()) as { agency: string }).agency).toBe('THIES1');
  });

  it('keep refreshing while the directory is unreachable for the grace (4 h) past the last check, then answer 503 DIRECTORY_UNAVAILABLE', async () => {
    let pair = await agentLogin(await newAgent('DAKAR1'));
    relay.up = false;
    try {
      for (const step of [HOUR + 1_000, HOUR, HOUR, HOUR - 10_000]) {
        clock.advance(step); // up to 4 h minus a few seconds after the last successful check (the login)
        const r = await post('/v1/auth/refresh', { refreshToken: pair.refreshToken });
        expect(r.status).toBe(200);
        pair = r.body as typeof pair;
      }
      clock.advance(20_000);
      expect(await post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).toMatchObject({ status: 503, body: { code: 'DIRECTORY_UNAVAILABLE' } });
    } finally {
      relay.up = true;
    }
    // Once the directory answers again (the directory actor's circuit probes it on its backoff, at most 30 s
    // apart), the same refresh token works: failing closed ended nothing.
    clock.advance(60_000);
    await waitFor('a refresh once the directory is back', async () => (await post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).status === 200);
  });

  it('are five at most: a sixth login ends the least recently used one, the other four go on', async () => {
    const agent = await newAgent('DAKAR1');
    const pairs = [];
    for (let i = 0; i < 6; i++) {
      pairs.push(await agentLogin(agent));
      clock.advance(1_000);
    }
    expect(await post('/v1/auth/refresh', { refreshToken: pairs[0]!.refreshToken })).toMatchObject({ status: 401, body: { code: 'INVALID_REFRESH_TOKEN' } });
    for (const pair of pairs.slice(1)) expect((await post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).status).toBe(200);
  });
});

describe('customer sessions', () => {
  it('are two at most: a third login ends the least recently used one', async () => {
    const phone = '+221775550102';
    await newCustomer(phone, '8351');
    const pairs = [];
    for (let i = 0; i < 3; i++) {
      const r = await post('/v1/auth/login', { phone, pin: '8351', deviceModel: `Phone ${i}`, platform: 'android' });
      expect(r.status).toBe(200);
      pairs.push(r.body as { refreshToken: string });
      clock.advance(1_000);
    }
    expect(await post('/v1/auth/refresh', { refreshToken: pairs[0]!.refreshToken })).toMatchObject({ status: 401, body: { code: 'INVALID_REFRESH_TOKEN' } });
    for (const pair of pairs.slice(1)) expect((await post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).status).toBe(200);
  });

  it('slide with use but end at their absolute cap (180 days from login)', async () => {
    const phone = '+221775550101';
    await newCustomer(phone, '8351');
    const login = await post('/v1/auth/login', { phone, pin: '8351', deviceModel: 'Phone', platform: 'android' });
    expect(login.status).toBe(200);
    let pair = login.body as { refreshToken: string };
    for (let day = 20; day <= 160; day += 20) {
      clock.advance(20 * DAY);
      const r = await post('/v1/auth/refresh', { refreshToken: pair.refreshToken });
      expect(r.status, `refresh on day ${day}`).toBe(200);
      pair = r.body as typeof pair;
    }
    clock.advance(20 * DAY + 1_000); // day 180 and a second
    expect(await post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).toMatchObject({ status: 401, body: { code: 'INVALID_REFRESH_TOKEN' } });
  });
});
