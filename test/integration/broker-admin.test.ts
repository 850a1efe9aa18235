// /admin/queues and /admin/jobs through the whole node: queue numbers from RabbitMQ's own counters (the management
// plugin of ops/services.sh), the jobs list and its filters, and who may ask.
import amqp from 'amqplib';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { brokerManagement } from '../../src/operations/broker-management.js';
import { freePort } from '../support/free-port.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let vhost: TestVhost;
let node: RunningNode;
let admin: string;
let adminId: string;

const managementUrl = (): string => {
  const url = servicesEnv().TEST_RABBITMQ_MANAGEMENT_URL;
  if (!url) throw new Error('no TEST_RABBITMQ_MANAGEMENT_URL: run `bash ops/services.sh start` again (it enables the management plugin)');
  return url;
};

beforeAll(async () => {
  db = await createTestDatabase();
  vhost = await createTestVhost();
  node = await startTestNode({ DATABASE_URL: db.url, AMQP_URL: vhost.url, RABBITMQ_MANAGEMENT_URL: managementUrl(), RABBITMQ_MANAGEMENT_USER: 'guest', RABBITMQ_MANAGEMENT_PASSWORD: 'guest' });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  try {
    adminId = (await sql.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.q', 'admin', now()) RETURNING id`)).rows[0]!.id;
  } finally {
    await sql.end();
  }
  admin = await mintToken({ role: 'admin', sub: adminId });
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await vhost?.delete();
  await db?.drop();
});

const get = async (path: string, token: string) => {
  const res = await fetch(`${node.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, any> };
};

type Queue = { name: string; kind: string; ready: number; published: number; paused: boolean | null };

describe('GET /admin/queues', () => {
  it("lists the four priority queues and the dead-letter queue, and the numbers move after publishing (the broker's counters)", async () => {
    const before = await waitFor('the queues declared', async () => {
      const r = await get('/admin/queues', admin);
      return r.status === 200 && (r.body.queues as Queue[]).length === 5 ? (r.body.queues as Queue[]) : undefined;
    });
    expect(before.map((q) => q.name)).toEqual(['urgent', 'high_priority', 'normal', 'low_priority', 'dead_letters']);
    expect(before.find((q) => q.name === 'dead_letters')).toMatchObject({ kind: 'dead_letter', paused: null });
    expect(before.find((q) => q.name === 'low_priority')).toMatchObject({ kind: 'priority', paused: false });
    const publishedBefore = before.find((q) => q.name === 'dead_letters')!.published;

    // Straight into the dead-letter queue (nothing consumes it): its depth and publish counter both grow. The channel
    // stays open until the counters show them: the broker counts a channel's publishes in that channel's metrics, which
    // its statistics collector reads on an interval, and a channel closed before the next read may take them along.
    const conn = await amqp.connect(vhost.url);
    let last: Queue | undefined;
    try {
      const ch = await conn.createConfirmChannel();
      for (let i = 0; i < 3; i++) ch.sendToQueue('dead_letters', Buffer.from('{}'), { persistent: true });
      await ch.waitForConfirms();
      await waitFor(
        'the management counters to show the three messages',
        async () => {
          last = ((await get('/admin/queues', admin)).body.queues as Queue[]).find((q) => q.name === 'dead_letters')!;
          return last.ready >= 3 && last.published >= publishedBefore + 3;
        },
        60_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message} (published before ${publishedBefore}; last seen ${JSON.stringify(last)})`);
      });
    } finally {
      await conn.close();
    }
  }, 90_000);

  it('shows a paused queue as paused (queue_pauses)', async () => {
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      await sql.query(`INSERT INTO queue_pauses (queue, paused_at, paused_by, reason) VALUES ('normal', now(), 'admin.q', 'test')`);
    } finally {
      await sql.end();
    }
    const queues = (await get('/admin/queues', admin)).body.queues as Queue[];
    expect(queues.find((q) => q.name === 'normal')!.paused).toBe(true);
    expect(queues.find((q) => q.name === 'urgent')!.paused).toBe(false);
  });

  it('answers 403 to customers and agents', async () => {
    for (const role of ['customer', 'agent'] as const) {
      expect((await get('/admin/queues', await mintToken({ role }))).status).toBe(403);
      expect((await get('/admin/jobs', await mintToken({ role }))).status).toBe(403);
    }
  });

  it('asks the next management node when one does not answer (a list), within its bound, then keeps to the one that answered', async () => {
    // A node gone silent (a host down: the TCP connection is taken, no answer ever comes) and one refusing (killed).
    const sockets = new Set<Socket>();
    let silentRequests = 0; // connections taken
    const silent = createServer((socket) => {
      silentRequests++;
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const refused = `http://127.0.0.1:${await freePort()}`;
    try {
      const { port } = silent.address() as AddressInfo;
      const client = brokerManagement({ urls: [`http://127.0.0.1:${port}`, refused, managementUrl()], user: 'guest', password: 'guest', vhost: vhost.name }, { timeoutMs: 1_000 });
      const first = await client.queues(['urgent', 'dead_letters']);
      expect(first.map((q) => q.name)).toEqual(['urgent', 'dead_letters']);
      const askedSilent = silentRequests;
      expect(askedSilent).toBeGreaterThan(0); // asked (fetch may open more than one connection), timed out, passed over
      const second = await client.queues(['urgent']);
      expect(second.map((q) => q.name)).toEqual(['urgent']);
      expect(silentRequests).toBe(askedSilent); // the node that answered is asked first now
      // None answering: one error naming each node's failure.
      const none = brokerManagement({ urls: [`http://127.0.0.1:${port}`, refused], user: 'guest', password: 'guest', vhost: vhost.name }, { timeoutMs: 500 });
      await expect(none.queues(['urgent'])).rejects.toMatchObject({
        code: 'BROKER_MANAGEMENT_UNAVAILABLE',
        message: `The broker management API 127.0.0.1:${port} cannot be reached; ${new URL(refused).host} cannot be reached.`,
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('answers through the next node of RABBITMQ_MANAGEMENT_URL when the first is down (the route, through the whole node)', async () => {
    const refused = `http://127.0.0.1:${await freePort()}`;
    const other = await startTestNode({
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      RABBITMQ_MANAGEMENT_URL: `${refused},${managementUrl()}`,
      RABBITMQ_MANAGEMENT_USER: 'guest',
      RABBITMQ_MANAGEMENT_PASSWORD: 'guest',
    });
    try {
      const res = await fetch(`${other.apiUrl}/admin/queues`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { queues: Queue[] }).queues.map((q) => q.name)).toEqual(['urgent', 'high_priority', 'normal', 'low_priority', 'dead_letters']);
    } finally {
      await other.stop();
    }
  }, 60_000);

  it('fails with BROKER_MANAGEMENT_UNAVAILABLE when the management API cannot be reached', async () => {
    const unreachable = brokerManagement({ urls: ['http://127.0.0.1:1'], user: 'guest', password: 'guest', vhost: '/' }, { timeoutMs: 2_000 });
    await expect(unreachable.queues(['normal'])).rejects.toMatchObject({ code: 'BROKER_MANAGEMENT_UNAVAILABLE' });
    await expect(brokerManagement(undefined).queues(['normal'])).rejects.toMatchObject({ code: 'BROKER_MANAGEMENT_UNAVAILABLE' });
  });
});

describe('GET /admin/dead-letters', () => {
  it('lists reason, attempts, job and tokens of the first dead letters, and leaves every one in the queue', async () => {
    const conn = await amqp.connect(vhost.url);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.purgeQueue('dead_letters');
      const jobId = '00000000-0000-4000-8000-0000000000d1';
      const body = { kind: 'push-batch', jobId, batchNo: 2, tokens: ['t1', 't2', 't3'], batchId: `${jobId}:2:dead`, attempt: 3 };
      ch.sendToQueue('dead_letters', Buffer.from(JSON.stringify(body)), {
        persistent: true,
        messageId: `${jobId}:2:dead`,
        headers: { 'x-dead-reason': 'FCM unavailable after the last retry', 'x-attempts': 4, 'x-origin-queue': 'normal', 'x-job-id': jobId },
      });
      await ch.waitForConfirms();
      for (let round = 0; round < 2; round++) {
        const r = await get('/admin/dead-letters?limit=10', admin);
        expect(r.status).toBe(200);
        expect(r.body.deadLetters).toEqual([
          { messageId: `${jobId}:2:dead`, reason: 'FCM unavailable after the last retry', attempts: 4, originQueue: 'normal', jobId, batchNo: 2, tokens: 3 },
        ]);
      }
      expect((await ch.checkQueue('dead_letters')).messageCount).toBe(1);
    } finally {
      await conn.close();
    }
  });
});

describe('GET /admin/jobs', () => {
  it('lists recent jobs newest first with their counts, filtered by state, type and since, in cursor pages', async () => {
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const ids: string[] = [];
    try {
      const type = (await sql.query<{ code: string }>(`SELECT code FROM notification_types ORDER BY code LIMIT 1`)).rows[0]!.code;
      for (const [i, state] of (['done', 'failed', 'done', 'sending'] as const).entries()) {
        const r = await sql.query<{ id: string }>(
          `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, state, created_at, updated_at, target_count, sent_count, failed_count)
           VALUES (gen_random_uuid(), $1, 'admin', '{"kind":"everyone"}', $2, 'normal', 't', 'b', '\\x00', $3, $4, $4, 10, $5, $6) RETURNING id`,
          [adminId, type, state, new Date(Date.UTC(2026, 10, 1 + i)), state === 'done' ? 10 : 0, state === 'failed' ? 10 : 0],
        );
        ids.push(r.rows[0]!.id);
      }
    } finally {
      await sql.end();
    }
    const all = await get('/admin/jobs?limit=3', admin);
    expect(all.status).toBe(200);
    expect(all.body.items.map((j: { id: string }) => j.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(all.body.items[1]).toMatchObject({ state: 'done', counts: { targets: 10, sent: 10, failed: 0 } });
    const next = await get(`/admin/jobs?limit=3&cursor=${all.body.nextCursor as string}`, admin);
    expect(next.body).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });

    const done = await get('/admin/jobs?state=done', admin);
    expect(done.body.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[0]]);
    const since = await get(`/admin/jobs?since=${encodeURIComponent(new Date(Date.UTC(2026, 10, 3)).toISOString())}`, admin);
    expect(since.body.items.map((j: { id: string }) => j.id)).toEqual([ids[3], ids[2]]);
    expect((await get('/admin/jobs?type=no_such_type', admin)).body.items).toEqual([]);
    expect((await get('/admin/jobs?cursor=nonsense', admin)).status).toBe(400);
  });
});
