// GET /v1/me/notifications/live against the real Redis (ops/services.sh) with real `ws` clients on a real HTTP
// server: refusals before the upgrade as problem responses, targeted entries and broadcasts crossing from one bus
// (the worker's process) to the hub of another (an API process), the fan-out announcing exactly what the inbox
// lists, a Redis restart (publish fails fast, the hub backs off, events flow again), the per-user connection cap
// and the 1001 close at shutdown.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { accountAudience, liveHubActor, type LiveHubOptions } from '../../actors/services/live-hub-actor.js';
import { attachLiveEndpoint, LIVE_PATH, type LiveEndpoint, type LiveHubGateway } from '../../http/live.js';
import type { Broker, PublishOptions } from '../../src/adapters/broker/broker.js';
import type { PriorityQueue } from '../../src/domain/priority.js';
import { SystemClock } from '../../src/clock.js';
import { LIVE_CLOSE, type LiveAudience, type LiveHubMessage, type LiveHubStats } from '../../src/contracts/live-messages.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { fanOut } from '../../src/dispatch/fan-out.js';
import { InboxService } from '../../src/inbox/inbox-service.js';
import type { InboxItem } from '../../src/contracts/inbox-messages.js';
import { LiveBusUnavailableError, type LiveBus } from '../../src/adapters/live-bus/live-bus.js';
import { MemoryLiveBus } from '../../src/adapters/live-bus/memory-live-bus.js';
import { RedisLiveBus } from '../../src/adapters/live-bus/redis-live-bus.js';
import type { LiveEvent } from '../../src/adapters/live-bus/live-event.js';
import { silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { createTestDatabase, servicesEnv, startPrivateRedis, type PrivateRedis, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { testTokenVerifier } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const ALLOWED_ORIGIN = 'https://app.samaconso.test';
/** A channel of this file's own: other test files on the shared Redis never see these events. */
const channel = `samaconso:inbox-live:test-${randomBytes(4).toString('hex')}`;
const FAST_RECONNECT = { minMs: 50, maxMs: 200 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function redisBus(url: string, options: { receive?: boolean } = {}): RedisLiveBus {
  const bus = new RedisLiveBus({ url, channel, reconnect: FAST_RECONNECT, ...options });
  cleanups.push(() => bus.close());
  return bus;
}

interface Hub {
  readonly runtime: Runtime;
  readonly url: string;
  readonly endpoint: LiveEndpoint;
  stats(): Promise<LiveHubStats>;
  state(): string | undefined;
}

/** A hub on `bus` in its own runtime, behind the endpoint on a real HTTP server on port 0: one API process. */
async function startHub(bus: LiveBus, audience: (userId: string) => Promise<LiveAudience | null>, options: Partial<LiveHubOptions> = {}): Promise<Hub> {
  const runtime = new Runtime({ clock: new SystemClock(), log: silentLogger() });
  await runtime.start(
    supervisor({ name: 'root', children: [actor({ name: 'live-hub', readiness: 'optional', behaviour: liveHubActor({ bus, audience: () => audience, ...options }) })] }),
  );
  const gateway: LiveHubGateway = {
    ask: (name, type, payload, opts) => runtime.ask<LiveHubMessage, typeof type>(name, type, payload, opts?.deadlineMs ?? 5_000),
  };
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = attachLiveEndpoint(server, { gateway, verifier: testTokenVerifier(), corsOrigins: [ALLOWED_ORIGIN], log: silentLogger() });
  let stopped = false;
  cleanups.push(async () => {
    endpoint.close();
    if (!stopped) await runtime.stop();
    stopped = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    runtime,
    url: `ws://127.0.0.1:${port}`,
    endpoint,
    stats: () => runtime.ask<LiveHubMessage, 'stats'>('live-hub', 'stats', {}, 5_000),
    state: () => runtime.tree().children?.find((c) => c.name === 'live-hub')?.stats.state,
  };
}

interface Client {
  readonly ws: WebSocket;
  readonly messages: Array<{ type: string; entry: InboxItem }>;
  /** Resolves with the n-th message (1-based) once it arrived. */
  nth(n: number): Promise<{ type: string; entry: InboxItem }>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** An open socket (rejects on any refusal); the hub has it attached once `hub.stats()` counts it. */
function connect(hub: Hub, token: string, options: { protocols?: string[]; origin?: string } = {}): Promise<Client> {
  const ws = new WebSocket(`${hub.url}${LIVE_PATH}`, options.protocols ?? [], {
    headers: { ...(options.protocols ? {} : { Authorization: `Bearer ${token}` }), ...(options.origin ? { Origin: options.origin } : {}) },
  });
  cleanups.push(() => ws.terminate());
  const messages: Client['messages'] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Client['messages'][number]));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed, nth: (n) => waitFor(`message ${n}`, () => messages[n - 1], 5_000) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** What the server answers instead of an upgrade: status, headers and the parsed body. */
function refusal(url: string, headers: Record<string, string>, protocols: string[] = []): Promise<{ status: number; type: string; body: Record<string, unknown>; wwwAuthenticate?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgraded'));
    });
    ws.once('error', () => undefined); // the refusal below is what we look at
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          body: JSON.parse(text) as Record<string, unknown>,
          ...(res.headers['www-authenticate'] ? { wwwAuthenticate: String(res.headers['www-authenticate']) } : {}),
        }),
      );
    });
  });
}

const item = (id: string, over: Partial<InboxItem> = {}): InboxItem => ({
  id,
  jobId: randomUUID(),
  type: 'planned_works',
  title: 'Travaux',
  body: 'Coupure de 9 h à 12 h',
  data: { zone: 'Plateau' },
  createdAt: '2026-03-01T10:00:00.000Z',
  read: false,
  ...over,
});
const entries = (ids: Record<string, string>, it: InboxItem = item('1')): LiveEvent => {
  const { id: _id, ...fields } = it;
  return { v: 1, kind: 'entries', entryIds: ids, entry: fields };
};

// Accounts the hub admits (no database needed outside the fan-out tests).
const users = {
  awa: { userId: randomUUID(), agency: 'DKR', createdAt: '2026-01-01T00:00:00.000Z', links: [] },
  binta: { userId: randomUUID(), agency: 'THS', createdAt: '2026-01-01T00:00:00.000Z', links: [] },
  cheikh: { userId: randomUUID(), agency: null, createdAt: '2026-01-01T00:00:00.000Z', links: [] },
  // Opened the account after the broadcasts of these tests were sent.
  diop: { userId: randomUUID(), agency: 'DKR', createdAt: '2026-06-01T00:00:00.000Z', links: [] },
} satisfies Record<string, LiveAudience>;
const gone = randomUUID();
const known = async (userId: string): Promise<LiveAudience | null> => Object.values(users).find((u) => u.userId === userId) ?? null;
const tokenOf = (u: LiveAudience) => mintToken({ role: 'customer', sub: u.userId });

describe('before the upgrade', () => {
  it('refuses without a WebSocket: no or bad token 401, wrong role or origin 403, other path 404, gone account 401', async () => {
    const hub = await startHub(new MemoryLiveBus(), known);
    const url = `${hub.url}${LIVE_PATH}`;

    const missing = await refusal(url, {});
    expect(missing).toMatchObject({ status: 401, type: 'application/problem+json', body: { status: 401, code: 'UNAUTHENTICATED' }, wwwAuthenticate: 'Bearer realm="samaconso"' });
    expect(typeof missing.body.requestId).toBe('string');

    const garbage = await refusal(url, { Authorization: 'Bearer not-a-jwt' });
    expect(garbage).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' }, wwwAuthenticate: 'Bearer realm="samaconso", error="invalid_token"' });
    const expired = await refusal(url, { Authorization: `Bearer ${await mintToken({ role: 'customer', sub: users.awa.userId, expiresIn: '-1h' })}` });
    expect(expired).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED', detail: 'The token has expired.' } });
    const badProtocolToken = await refusal(url, {}, ['bearer', 'not-a-jwt']);
    expect(badProtocolToken).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });

    // The roles of GET /v1/me/notifications: customers only.
    expect(await refusal(url, { Authorization: `Bearer ${await mintToken({ role: 'agent' })}` })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const awa = await tokenOf(users.awa);
    expect(await refusal(url, { Authorization: `Bearer ${awa}`, Origin: 'https://evil.example' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await refusal(`${hub.url}/v1/elsewhere`, { Authorization: `Bearer ${awa}` })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    const goneToken = await mintToken({ role: 'customer', sub: gone });
    expect(await refusal(url, { Authorization: `Bearer ${goneToken}` })).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });

    // A token in the query string is not looked at.
    expect(await refusal(`${url}?access_token=${awa}`, {})).toMatchObject({ status: 401 });
    expect((await hub.stats()).connections).toBe(0);

    // The accepted forms: the header (with an allowed Origin, or none), and a browser's `bearer, <token>` subprotocol.
    await connect(hub, awa, { origin: ALLOWED_ORIGIN });
    const browser = await connect(hub, awa, { protocols: ['bearer', awa] });
    expect(browser.ws.protocol).toBe('bearer');
    await waitFor('two connections attached', async () => (await hub.stats()).connections === 2);
  });
});

describe('across processes on Redis', () => {
  it("delivers a targeted entry published by another process to that user's sockets only, with the user's own id", async () => {
    const redisUrl = servicesEnv().TEST_REDIS_URL;
    const worker = redisBus(redisUrl, { receive: false }); // process #1, a worker: the fan-out publishes here, it listens to nothing
    expect(() => worker.subscribe(() => undefined)).toThrow(/only publishes/);
    const api = redisBus(redisUrl); // process #2: holds the sockets
    await waitFor('both buses up', () => worker.isUp && api.isUp);
    const hub = await startHub(api, known);
    const awa = await connect(hub, await tokenOf(users.awa));
    const awaPhone = await connect(hub, await tokenOf(users.awa));
    const binta = await connect(hub, await tokenOf(users.binta));
    await waitFor('three attached', async () => (await hub.stats()).connections === 3);

    const sent = item('0', { title: 'Pour Awa' });
    await worker.publish(entries({ [users.awa.userId]: '101', [randomUUID()]: '102' }, sent));
    const expected = { ...sent, id: '101' };
    expect(await awa.nth(1)).toEqual({ type: 'notification', entry: expected });
    expect(await awaPhone.nth(1)).toEqual({ type: 'notification', entry: expected });
    // Same field order as the list's items, so the app parses and renders both alike.
    expect(Object.keys((await awa.nth(1)).entry)).toEqual(['id', 'jobId', 'type', 'title', 'body', 'data', 'createdAt', 'read']);

    // Binta's first message is her own, later one: Awa's never reached her.
    await worker.publish(entries({ [users.binta.userId]: '201' }, item('0', { title: 'Pour Binta' })));
    expect((await binta.nth(1)).entry).toMatchObject({ id: '201', title: 'Pour Binta' });
    expect(binta.messages).toHaveLength(1);

    // A malformed message on the channel is dropped and counted; the next valid one still arrives.
    const raw = new Redis(redisUrl);
    cleanups.push(() => void raw.disconnect());
    await raw.publish(channel, '{"v":1,"kind":"entries","entryIds":{"not-a-uuid":"1"}}');
    await raw.publish(channel, 'not json');
    await worker.publish(entries({ [users.awa.userId]: '103' }));
    expect((await awa.nth(2)).entry.id).toBe('103');
    const stats = await hub.stats();
    expect(stats.bus).toMatchObject({ kind: 'redis', up: true, malformed: 2 });
    expect(worker.stats()).toMatchObject({ published: 3, failed: 0 });
    expect(stats.delivered).toBe(5); // Awa: two sockets × two events; Binta: one
  });

  it('sends a broadcast to everyone in its scope, by the inbox rule (agency, all agencies, account age)', async () => {
    const redisUrl = servicesEnv().TEST_REDIS_URL;
    const worker = redisBus(redisUrl);
    const api = redisBus(redisUrl);
    await waitFor('both buses up', () => worker.isUp && api.isUp);
    const hub = await startHub(api, known);
    const c = {
      awa: await connect(hub, await tokenOf(users.awa)),
      binta: await connect(hub, await tokenOf(users.binta)),
      cheikh: await connect(hub, await tokenOf(users.cheikh)),
      diop: await connect(hub, await tokenOf(users.diop)),
    };
    await waitFor('four attached', async () => (await hub.stats()).connections === 4);

    const everyone = item('301', { title: 'Tout le monde' });
    await worker.publish({ v: 1, kind: 'broadcast', scope: { kind: 'everyone' }, entry: everyone });
    await worker.publish({ v: 1, kind: 'broadcast', scope: { kind: 'agency', agency: 'DKR' }, entry: item('302', { title: 'Dakar' }) });
    await worker.publish({ v: 1, kind: 'broadcast', scope: { kind: 'all_agencies' }, entry: item('303', { title: 'Agences' }) });
    // After Diop's account was opened: Diop sees this one, and only this one.
    await worker.publish({ v: 1, kind: 'broadcast', scope: { kind: 'everyone' }, entry: item('304', { createdAt: '2026-07-01T00:00:00.000Z' }) });

    const ids = async (client: Client, count: number) => {
      await waitFor(`${count} messages`, () => client.messages.length >= count, 5_000);
      return client.messages.map((m) => m.entry.id);
    };
    expect(await c.awa.nth(1)).toEqual({ type: 'notification', entry: everyone });
    expect(await ids(c.awa, 4)).toEqual(['301', '302', '303', '304']);
    expect(await ids(c.binta, 3)).toEqual(['301', '303', '304']);
    expect(await ids(c.cheikh, 2)).toEqual(['301', '304']);
    expect(await ids(c.diop, 1)).toEqual(['304']);
    // Everyone got the last event, so nothing else is on its way.
    expect([c.binta, c.cheikh, c.diop].map((x) => x.messages.length)).toEqual([3, 2, 1]);
  });
});

describe('the fan-out announcing what the inbox lists', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let handle: PgHandle;
  let adminId: string;
  const clock = new SystemClock();
  const broker = {
    kind: 'memory',
    isUp: true,
    publish: (_q: PriorityQueue, _b: Buffer, _o: PublishOptions) => Promise.resolve(),
  } as unknown as Broker;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    handle = poolHandle(pool);
    await pool.query(`INSERT INTO agencies (code, name) VALUES ('DKR', 'Dakar'), ('THS', 'Thiès') ON CONFLICT DO NOTHING`);
    adminId = (await pool.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.live', 'admin', now()) RETURNING id`)).rows[0]!.id;
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function customers(count: number, agency: string | null): Promise<string[]> {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO users (id, phone, role, agency_code, created_at)
       SELECT gen_random_uuid(), '+2217' || lpad((floor(random() * 1e8))::bigint::text, 8, '0'), 'customer', $2, now() - interval '1 day' FROM generate_series(1, $1)
       RETURNING id`,
      [count, agency],
    );
    return rows.map((r) => r.id);
  }
  async function job(target: object): Promise<string> {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, data, request_hash, created_at, updated_at)
       VALUES (gen_random_uuid(), $1, 'admin', $2, 'planned_works', 'normal', 'Travaux', 'Coupure demain', '{"zone":"Plateau"}', '\\x00', now(), now()) RETURNING id`,
      [adminId, JSON.stringify(target)],
    );
    return rows[0]!.id;
  }
  const listed = async (userId: string) => (await new InboxService({ db: async () => handle, clock }).list({ userId, role: 'customer', agency: null })).items;

  it('a targeted job reaches each user live as the item GET /v1/me/notifications lists, a broadcast to its agency only', async () => {
    const redisUrl = servicesEnv().TEST_REDIS_URL;
    const worker = redisBus(redisUrl);
    const api = redisBus(redisUrl);
    await waitFor('both buses up', () => worker.isUp && api.isUp);
    const hub = await startHub(api, accountAudience(async () => handle));

    const [u1, u2, bystander] = await customers(3, 'DKR');
    const [ths] = await customers(1, 'THS');
    const clients = new Map<string, Client>();
    for (const u of [u1!, u2!, bystander!, ths!]) clients.set(u, await connect(hub, await mintToken({ role: 'customer', sub: u })));
    await waitFor('four attached', async () => (await hub.stats()).connections === 4);

    // Pages of one user: one event per page, each committed before it is announced.
    const targeted = await job({ kind: 'users', userIds: [u1, u2] });
    expect(await fanOut({ db: handle, broker, clock, live: worker }, { jobId: targeted }, { pageSize: 1 })).toMatchObject({ done: true });
    for (const u of [u1!, u2!]) {
      const got = await clients.get(u)!.nth(1);
      const [inList] = await listed(u);
      expect(got).toEqual({ type: 'notification', entry: inList });
      expect(got.entry).toMatchObject({ jobId: targeted, title: 'Travaux', data: { zone: 'Plateau' }, read: false });
    }
    expect(clients.get(u1!)!.messages[0]!.entry.id).not.toBe(clients.get(u2!)!.messages[0]!.entry.id);

    const broadcast = await job({ kind: 'agency', agency: 'DKR' });
    await fanOut({ db: handle, broker, clock, live: worker }, { jobId: broadcast });
    const [newest] = await listed(bystander!);
    expect(newest?.jobId).toBe(broadcast);
    expect(await clients.get(bystander!)!.nth(1)).toEqual({ type: 'notification', entry: newest });
    expect(await clients.get(u1!)!.nth(2)).toEqual({ type: 'notification', entry: newest });
    // Thiès: neither the targeted job nor Dakar's broadcast. A later broadcast to Thiès is its first message.
    const thsJob = await job({ kind: 'agency', agency: 'THS' });
    await fanOut({ db: handle, broker, clock, live: worker }, { jobId: thsJob });
    expect((await clients.get(ths!)!.nth(1)).entry.jobId).toBe(thsJob);
    expect(clients.get(ths!)!.messages).toHaveLength(1);
  });

  it('a fan-out whose live bus is down completes all the same, without waiting on it', async () => {
    const redis = await startPrivateRedis();
    const bus = new RedisLiveBus({ url: redis.url, channel, reconnect: FAST_RECONNECT });
    cleanups.push(() => bus.close());
    await waitFor('bus up', () => bus.isUp);
    await redis.kill();
    await waitFor('bus down', () => !bus.isUp);
    const [u] = await customers(1, null);
    const id = await job({ kind: 'users', userIds: [u] });
    expect(await fanOut({ db: handle, broker, clock, live: bus }, { jobId: id })).toMatchObject({ done: true });
    await waitFor('the failed publish counted', () => bus.stats().failed === 1);
    expect((await listed(u!))[0]?.jobId).toBe(id);
  });
});

describe('Redis restarted', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('fails a publish at once while down, reports the hub backing-off, and delivers again once Redis is back', async () => {
    const worker = redisBus(redis.url);
    const api = redisBus(redis.url);
    await waitFor('both buses up', () => worker.isUp && api.isUp);
    const hub = await startHub(api, known);
    expect(hub.state()).toBe('running');
    const awa = await connect(hub, await tokenOf(users.awa));
    await waitFor('attached', async () => (await hub.stats()).connections === 1);
    await worker.publish(entries({ [users.awa.userId]: '1' }));
    expect((await awa.nth(1)).entry.id).toBe('1');

    await redis.kill();
    await waitFor('hub backing-off', () => hub.state() === 'backing-off');
    await waitFor('publisher down', () => !worker.isUp);
    const started = performance.now();
    await expect(worker.publish(entries({ [users.awa.userId]: '2' }))).rejects.toBeInstanceOf(LiveBusUnavailableError);
    expect(performance.now() - started).toBeLessThan(100);
    expect(await hub.stats()).toMatchObject({ busUp: false, connections: 1 });
    expect(awa.ws.readyState).toBe(WebSocket.OPEN); // the socket stays: the bus is best effort

    await redis.start();
    await waitFor('both buses up again', () => worker.isUp && api.isUp);
    await waitFor('hub running', () => hub.state() === 'running');
    await worker.publish(entries({ [users.awa.userId]: '3' }));
    expect((await awa.nth(2)).entry.id).toBe('3');
    expect(awa.messages.map((m) => m.entry.id)).toEqual(['1', '3']);
    expect(worker.stats()).toMatchObject({ published: 2, failed: 1 });
  });
});

describe('connection limits and shutdown', () => {
  it('closes the oldest connection of a user over the limit (4001), and every socket with 1001 when the hub stops', async () => {
    const bus = new MemoryLiveBus();
    const hub = await startHub(bus, known, { maxConnectionsPerUser: 2 });
    const token = await tokenOf(users.awa);
    const first = await connect(hub, token);
    await waitFor('first attached', async () => (await hub.stats()).connections === 1);
    const second = await connect(hub, token);
    await waitFor('second attached', async () => (await hub.stats()).connections === 2);
    const third = await connect(hub, token);
    expect(await first.closed).toEqual({ code: LIVE_CLOSE.TOO_MANY_CONNECTIONS, reason: 'more than 2 connections for this user' });
    const binta = await connect(hub, await tokenOf(users.binta));
    await waitFor('three attached', async () => (await hub.stats()).connections === 3);
    expect(await hub.stats()).toMatchObject({ users: 2, overLimitClosed: 1 });

    // The two left both get the user's entries; the closed one is gone from the registry.
    await bus.publish(entries({ [users.awa.userId]: '7' }));
    expect((await second.nth(1)).entry.id).toBe('7');
    expect((await third.nth(1)).entry.id).toBe('7');

    await hub.runtime.stop();
    for (const c of [second, third, binta]) expect(await c.closed).toEqual({ code: 1001, reason: 'server shutting down' });
  });

  it('closes a connection when the access token it was opened with expires (4401)', async () => {
    const hub = await startHub(new MemoryLiveBus(), known);
    const client = await connect(hub, await mintToken({ role: 'customer', sub: users.awa.userId, expiresIn: '2s' }));
    const opened = Date.now();
    expect(await client.closed).toEqual({ code: LIVE_CLOSE.TOKEN_EXPIRED, reason: 'token expired' });
    // Not before the token's expiry (exp has one-second precision).
    expect(Date.now() - opened).toBeGreaterThanOrEqual(900);
  });

  it('terminates a socket that stops answering pings, keeps one that answers', async () => {
    const hub = await startHub(new MemoryLiveBus(), known, { pingIntervalMs: 250 });
    const token = await tokenOf(users.awa);
    const answering = await connect(hub, token);
    const silent = new WebSocket(`${hub.url}${LIVE_PATH}`, { headers: { Authorization: `Bearer ${token}` }, autoPong: false });
    cleanups.push(() => silent.terminate());
    const silentClosed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    await new Promise((resolve) => silent.once('open', resolve));
    expect(await silentClosed).toBe(1006); // terminated: no close frame
    expect(await hub.stats()).toMatchObject({ connections: 1, unresponsiveTerminated: 1 });
    await new Promise((resolve) => setTimeout(resolve, 800)); // three more pings, all answered
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    expect((await hub.stats()).unresponsiveTerminated).toBe(1);
  });

  it('closes a consumer that stopped reading once its send buffer passes the limit, and only that one', async () => {
    const bus = new MemoryLiveBus();
    const hub = await startHub(bus, known, { maxBufferedBytes: 64 * 1024 });
    const stalled = await connect(hub, await tokenOf(users.awa));
    const reading = await connect(hub, await tokenOf(users.binta));
    await waitFor('attached', async () => (await hub.stats()).connections === 2);
    stalled.ws.pause(); // stops reading its socket: the kernel buffers fill, then the server's
    const big = 'x'.repeat(60_000);
    let sent = 0;
    while ((await hub.stats()).slowConsumersClosed === 0 && sent < 2_000) {
      await bus.publish({ v: 1, kind: 'broadcast', scope: { kind: 'everyone' }, entry: item(String(++sent), { body: big }) });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await hub.stats()).toMatchObject({ slowConsumersClosed: 1, connections: 1 });
    await waitFor('the reader got every one', () => reading.messages.length === sent, 10_000);
    expect(reading.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('drops a malformed in-process event and counts it', async () => {
    const bus = new MemoryLiveBus();
    const hub = await startHub(bus, known);
    const awa = await connect(hub, await tokenOf(users.awa));
    await waitFor('attached', async () => (await hub.stats()).connections === 1);
    bus.deliver(JSON.stringify({ v: 2, kind: 'entries', entryIds: { [users.awa.userId]: '1' }, entry: {} }));
    await bus.publish(entries({ [users.awa.userId]: '8' }));
    expect((await awa.nth(1)).entry.id).toBe('8');
    expect((await hub.stats()).bus).toMatchObject({ kind: 'memory', malformed: 1, received: 1 });
  });
});
