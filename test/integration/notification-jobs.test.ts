// Accepting notification jobs against the real PostgreSQL and RabbitMQ (a vhost of this file): the job and its
// outbox row in one transaction, the relay publishing on confirm with message id = outbox id, RabbitMQ down at
// acceptance, idempotency, the agent's limits, and two relays publishing each row once (FCM's payload limit is
// checked at the edge: notifications-http.test.ts).
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notificationJobsActor } from '../../actors/services/notification-jobs-actor.js';
import { outboxRelayActor } from '../../actors/services/outbox-relay-actor.js';
import { AmqpBroker } from '../../src/adapters/broker/amqp-broker.js';
import type { Broker } from '../../src/adapters/broker/broker.js';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import { SystemClock } from '../../src/clock.js';
import type { Caller } from '../../src/contracts/caller.js';
import type { NotificationJobsMessage, OutboxRelayMessage } from '../../src/contracts/notifications-messages.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { NotificationJobService } from '../../src/notifications/notification-jobs.js';
import { OutboxRelay } from '../../src/notifications/outbox-relay.js';
import type { NotificationRequest } from '../../src/domain/notification-request.js';
import { silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { freePort } from '../support/free-port.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';

const TOPOLOGY = { retryTiersMs: [50, 1_000], deliveryLimit: 2 };
const clock = new SystemClock();
let db: TestDatabase;
let pool: pg.Pool;
let handle: PgHandle;
let vhost: TestVhost;
let broker: AmqpBroker;
let inspector: amqp.ChannelModel;
let inspect: amqp.Channel;
const closeLater: Array<() => Promise<unknown>> = [];

const pgHandle = poolHandle;

async function openBroker(url = vhost.url): Promise<AmqpBroker> {
  const b = new AmqpBroker({ urls: [url], topology: TOPOLOGY, connectionName: 'notification-jobs-test', reconnect: { minMs: 100, maxMs: 500 } });
  closeLater.push(() => b.close());
  return b;
}

const admin: Caller = { userId: randomUUID(), role: 'admin', agency: null };
const admin2: Caller = { userId: randomUUID(), role: 'admin', agency: null };
const agentDkr: Caller = { userId: randomUUID(), role: 'agent', agency: 'DKR' };
const agentThs: Caller = { userId: randomUUID(), role: 'agent', agency: 'THS' };
const customerDkr = randomUUID();
const customerThs = randomUUID();

const service = () => new NotificationJobService({ db: async () => handle, clock });
const relay = (b: Broker = broker, batchSize = 100, h: PgHandle = handle) => new OutboxRelay({ db: async () => h, broker: async () => b, clock, batchSize });
const request = (over: Partial<NotificationRequest> = {}): NotificationRequest => ({
  target: { kind: 'agency', agency: 'DKR' },
  type: 'planned_works',
  title: 'Travaux programmés',
  body: 'Coupure de 9 h à 12 h à Dakar-Plateau',
  data: { area: 'plateau' },
  ...over,
});

/** Every message now in the queue (taken off it, acked). */
async function drain(queue: string): Promise<amqp.GetMessage[]> {
  const out: amqp.GetMessage[] = [];
  for (;;) {
    const m = await inspect.get(queue, { noAck: true });
    if (!m) return out;
    out.push(m);
  }
}

const outboxRows = async (jobId: string) =>
  (await pool.query<{ id: string; queue: string; payload: Record<string, unknown>; published_at: Date | null; attempts: number; last_error: string | null }>(`SELECT * FROM outbox WHERE job_id = $1`, [jobId])).rows;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 6 });
  handle = pgHandle(pool);
  await pool.query(`INSERT INTO agencies (code, name) VALUES ('DKR', 'Dakar'), ('THS', 'Thiès')`);
  const user = (id: string, role: string, agency: string | null, login: string | null, phone: string | null) =>
    pool.query(`INSERT INTO users (id, role, agency_code, ldap_login, phone, created_at) VALUES ($1, $2, $3, $4, $5, now())`, [id, role, agency, login, phone]);
  await user(admin.userId, 'admin', null, 'admin1', null);
  await user(admin2.userId, 'admin', null, 'admin2', null);
  await user(agentDkr.userId, 'agent', 'DKR', 'agent.dkr', null);
  await user(agentThs.userId, 'agent', 'THS', 'agent.ths', null);
  await user(customerDkr, 'customer', 'DKR', null, '+221770000001');
  await user(customerThs, 'customer', 'THS', null, '+221770000002');

  vhost = await createTestVhost();
  broker = await openBroker();
  await waitFor('broker up', () => broker.isUp);
  inspector = await amqp.connect(vhost.url);
  inspect = await inspector.createChannel();
});

beforeEach(async () => {
  // Each test starts with an empty outbox backlog and empty queues.
  await pool.query(`UPDATE outbox SET published_at = now() WHERE published_at IS NULL`);
  for (const q of PRIORITY_QUEUES) await inspect.purgeQueue(q);
});

afterAll(async () => {
  for (const close of closeLater.reverse()) await close().catch(() => undefined);
  await inspector?.close().catch(() => undefined);
  await vhost?.delete();
  await pool?.end();
  await db?.drop();
});

describe('accepting a job', () => {
  it('writes the job and one outbox row; the relay publishes it with the outbox id as message id, after the confirm', async () => {
    const { jobId, replayed } = await service().accept(agentDkr, request());
    expect(replayed).toBe(false);
    const job = (await pool.query(`SELECT * FROM notification_jobs WHERE id = $1`, [jobId])).rows[0];
    expect(job).toMatchObject({ created_by: agentDkr.userId, caller_role: 'agent', caller_agency: 'DKR', type: 'planned_works', queue: 'low_priority', state: 'accepted', target: { kind: 'agency', agency: 'DKR' } });
    const [row, ...more] = await outboxRows(jobId);
    expect(more).toHaveLength(0);
    expect(row).toMatchObject({ queue: 'low_priority', published_at: null, attempts: 0, payload: { kind: 'notification-job', jobId, queue: 'low_priority' } });

    expect(await relay().relayBatch()).toMatchObject({ claimed: 1, published: 1, failed: 0 });
    const [published] = await outboxRows(jobId);
    expect(published!.published_at).toBeInstanceOf(Date);
    expect(published!.attempts).toBe(1);

    const got = await waitFor('the message in low_priority', async () => (await drain('low_priority'))[0]);
    expect(got.properties.messageId).toBe(row!.id);
    expect(JSON.parse(got.content.toString())).toEqual({ kind: 'notification-job', jobId, type: 'planned_works', queue: 'low_priority' });
    expect(await relay().relayBatch()).toMatchObject({ claimed: 0 }); // nothing published twice
  });

  it('writes neither the job nor the outbox row when the transaction fails half way', async () => {
    const failing: PgHandle = {
      query: handle.query,
      transaction: (fn) =>
        handle.transaction((client) => {
          const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
          const proxy = new Proxy(client, {
            get: (target, prop, receiver) =>
              prop === 'query'
                ? (text: string, values?: unknown[]) => (String(text).startsWith('INSERT INTO outbox') ? Promise.reject(new Error('disk full')) : query(text, values))
                : Reflect.get(target, prop, receiver),
          });
          return fn(proxy);
        }),
    };
    const before = Number((await pool.query(`SELECT count(*) FROM notification_jobs`)).rows[0].count);
    await expect(new NotificationJobService({ db: async () => failing, clock }).accept(admin, request({ title: 'atomic' }))).rejects.toThrow('disk full');
    expect(Number((await pool.query(`SELECT count(*) FROM notification_jobs`)).rows[0].count)).toBe(before);
  });

  it('takes the queue from the type; anyone may lower it, only an admin may raise it', async () => {
    const lowered = await service().accept(agentDkr, request({ type: 'outage', priority: 'normal' }));
    expect((await outboxRows(lowered.jobId))[0]!.queue).toBe('normal');
    const urgent = await service().accept(agentDkr, request({ type: 'outage' }));
    expect((await outboxRows(urgent.jobId))[0]!.queue).toBe('urgent');
    await expect(service().accept(agentDkr, request({ priority: 'urgent' }))).rejects.toMatchObject({ code: 'FORBIDDEN', rule: 'priority', name: 'NotificationForbiddenError' });
    const raised = await service().accept(admin, request({ priority: 'urgent' }));
    expect((await outboxRows(raised.jobId))[0]!.queue).toBe('urgent');
    await expect(service().accept(admin, request({ type: 'no_such_type' }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ path: 'body.type' }] });
  });

  it('an agent sends only within their agency; everyone and all agencies are for admins', async () => {
    const refused = [
      request({ target: { kind: 'everyone' } }),
      request({ target: { kind: 'all_agencies' } }),
      request({ target: { kind: 'agency', agency: 'THS' } }),
      request({ target: { kind: 'user', userId: customerThs } }),
      request({ target: { kind: 'users', userIds: [customerDkr, customerThs] } }),
      request({ target: { kind: 'user', userId: randomUUID() } }), // unknown: the same 403, no probing
    ];
    for (const r of refused) await expect(service().accept(agentDkr, r), JSON.stringify(r.target)).rejects.toMatchObject({ code: 'FORBIDDEN', rule: 'target' });
    await expect(service().accept({ userId: customerDkr, role: 'customer', agency: null }, request())).rejects.toMatchObject({ code: 'FORBIDDEN' });

    await expect(service().accept(agentDkr, request({ target: { kind: 'users', userIds: [customerDkr] } }))).resolves.toMatchObject({ replayed: false });
    await expect(service().accept(admin, request({ target: { kind: 'everyone' } }))).resolves.toMatchObject({ replayed: false });
    await expect(service().accept(admin, request({ target: { kind: 'all_agencies' } }))).resolves.toMatchObject({ replayed: false });
    const unknown = randomUUID();
    await expect(service().accept(admin, request({ target: { kind: 'users', userIds: [customerThs, unknown] } }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ path: 'body.target.userIds.1' }],
    });
    await expect(service().accept(admin, request({ target: { kind: 'agency', agency: 'XXX' } }))).rejects.toMatchObject({ fields: [{ path: 'body.target.agency' }] });
  });
});

describe('idempotency keys', () => {
  it('same key and body: the same job (one row); another body: 409; keys are per caller', async () => {
    const key = `k-${randomUUID()}`;
    const first = await service().accept(admin, request({ idempotencyKey: key }));
    // The same request in another form (key order of data) is the same request.
    const again = await service().accept(admin, request({ idempotencyKey: key, data: { area: 'plateau' } }));
    expect(again).toEqual({ jobId: first.jobId, replayed: true });
    expect((await pool.query(`SELECT count(*) FROM notification_jobs WHERE idempotency_key = $1`, [key])).rows[0].count).toBe('1');
    expect(await outboxRows(first.jobId)).toHaveLength(1);

    await expect(service().accept(admin, request({ idempotencyKey: key, title: 'Autre titre' }))).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', jobId: first.jobId });
    const other = await service().accept(admin2, request({ idempotencyKey: key }));
    expect(other.jobId).not.toBe(first.jobId);
  });

  it('two requests with one key at once make one job', async () => {
    const key = `k-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => service().accept(admin, request({ idempotencyKey: key }))));
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  });
});

describe('job status', () => {
  it("shows state and counts to the creator's agency and to admins; 404 to anyone else and for unknown ids", async () => {
    const { jobId } = await service().accept(agentDkr, request());
    const seen = await service().status(agentDkr, jobId);
    expect(seen).toMatchObject({ id: jobId, state: 'accepted', type: 'planned_works', queue: 'low_priority', target: { kind: 'agency', agency: 'DKR' } });
    expect(seen.counts).toEqual({ targets: 0, inboxEntries: 0, sent: 0, retried: 0, failed: 0, tokensRemoved: 0 });
    await expect(service().status(admin, jobId)).resolves.toMatchObject({ id: jobId });
    await expect(service().status({ ...agentDkr, userId: randomUUID() }, jobId)).resolves.toMatchObject({ id: jobId }); // another agent of DKR
    for (const [caller, id] of [[agentThs, jobId], [{ userId: customerDkr, role: 'customer', agency: null }, jobId], [admin, randomUUID()], [admin, 'not-a-uuid']] as const) {
      await expect(service().status(caller as Caller, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});

describe('RabbitMQ down when a job is accepted', () => {
  it('accepts (202), the relay backs off keeping the row, and publishes once the broker is back; kicks publish at once', async () => {
    const closedPort = await freePort();
    const dead = await openBroker(`amqp://guest:guest@127.0.0.1:${closedPort}/`);
    let current: Broker = dead;
    const runtime = new Runtime({ clock, log: silentLogger() });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({
            name: 'outbox-relay',
            behaviour: outboxRelayActor({ pollMs: 60_000, backoff: { minMs: 50, maxMs: 200 }, deps: () => ({ db: async () => handle, broker: async () => current }) }),
          }),
          actor({ name: 'notification-jobs', behaviour: notificationJobsActor(service) }),
        ],
      }),
    );
    closeLater.push(() => runtime.stop());
    const node = () => runtime.tree().children!.find((c) => c.name === 'outbox-relay')!;
    const stats = () => runtime.ask<OutboxRelayMessage, 'stats'>('outbox-relay', 'stats', {}, 5_000);
    const accept = (r: NotificationRequest) => runtime.ask<NotificationJobsMessage, 'accept'>('notification-jobs', 'accept', { caller: admin, input: r }, 5_000);

    const { jobId } = await accept(request({ type: 'outage' }));
    await waitFor('relay backing off', () => node().stats.state === 'backing-off');
    expect((await stats()).state).toBe('backing-off');
    expect(node().stats.crashes ?? 0).toBe(0);
    // A few backoff rounds later the row is still there, unpublished.
    await new Promise((r) => setTimeout(r, 300));
    expect((await outboxRows(jobId))[0]!.published_at).toBeNull();
    expect(await drain('urgent')).toHaveLength(0);

    current = broker; // RabbitMQ is back
    await waitFor('published after the broker is back', async () => (await outboxRows(jobId))[0]!.published_at !== null);
    await waitFor('relay running', () => node().stats.state === 'running');
    const got = await waitFor('message in urgent', async () => (await drain('urgent'))[0]);
    expect(got.properties.messageId).toBe((await outboxRows(jobId))[0]!.id);

    // Up and idle (the next poll is a minute away): an accept kicks the relay at once.
    const second = await accept(request({ type: 'outage', title: 'second' }));
    await waitFor('kicked publish', async () => (await outboxRows(second.jobId))[0]!.published_at !== null, 5_000);
    expect((await waitFor('second message', async () => (await drain('urgent'))[0])).properties.messageId).toBe((await outboxRows(second.jobId))[0]!.id);
  });
});

describe('several relays', () => {
  it('two relays at once publish every row exactly once (FOR UPDATE SKIP LOCKED)', async () => {
    const jobs = await Promise.all(Array.from({ length: 60 }, (_, i) => service().accept(admin, request({ title: `batch ${i}` }))));
    const secondPool = new pg.Pool({ connectionString: db.url, max: 2 });
    closeLater.push(() => secondPool.end());
    const otherBroker = await openBroker();
    await waitFor('second broker up', () => otherBroker.isUp);
    const relays = [relay(broker, 7), relay(otherBroker, 7, pgHandle(secondPool))];
    const totals = await Promise.all(
      relays.map(async (r) => {
        let published = 0;
        for (;;) {
          const res = await r.relayBatch();
          published += res.published;
          expect(res.failed).toBe(0);
          if (res.claimed === 0) return published;
        }
      }),
    );
    expect(totals[0]! + totals[1]!).toBe(60);
    const messages = await waitFor('all 60 messages', async () => {
      const q = await inspect.checkQueue('low_priority');
      return q.messageCount >= 60 && drain('low_priority');
    });
    expect(messages).toHaveLength(60);
    const ids = messages.map((m) => m.properties.messageId as string);
    expect(new Set(ids).size).toBe(60);
    const expected = (await pool.query<{ id: string }>(`SELECT id FROM outbox WHERE job_id = ANY($1::uuid[])`, [jobs.map((j) => j.jobId)])).rows.map((r) => r.id);
    expect(ids.sort()).toEqual(expected.sort());
    expect((await pool.query(`SELECT count(*) FROM outbox WHERE published_at IS NULL`)).rows[0].count).toBe('0');
  });
});
