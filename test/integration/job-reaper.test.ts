// No accepted job stays unsettled after a long outage. With BROKER_DELIVERY_LIMIT=1 and PostgreSQL away for longer
// than the worker holds a delivery, RabbitMQ dead-letters the job's messages (the dead_letters queue counts them)
// without the worker being able to record anything. The worker's job reaper then, once the database is back:
// - resumes the fan-out of a job whose job message died (from its checkpoint) and the job is delivered;
// - counts the tokens of a batch that died as failed, with a reason, and settles the job.
// The API and the worker are separate nodes on a PostgreSQL of this file (stopped and started by the test).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/adapters/broker/broker.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import { consumerName, type ConsumerMessage } from '../../src/dispatch/consumer-messages.js';
import type { RunningNode } from '../../src/node.js';
import { adminToken, jobRow, postJob, seedCustomers, startFcmWorld, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import { startTestNode } from '../support/node.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { createTestVhost, rabbitmqctl, type TestVhost } from '../support/rabbitmq.js';
import { servicesEnv } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let server: PrivatePostgres;
let vhost: TestVhost;
let world: FcmWorld;
let api: RunningNode;
let worker: RunningNode | undefined;
let sql: pg.Pool;
let admin: string;
let env: Record<string, string>;

/** Messages RabbitMQ holds in the dead-letter queue (its own count). */
const deadLettered = async (): Promise<number> => {
  const rows = JSON.parse((await rabbitmqctl(['list_queues', '-p', vhost.name, 'name', 'messages', '--formatter', 'json'])) || '[]') as Array<{ name: string; messages: number }>;
  return rows.find((r) => r.name === 'dead_letters')?.messages ?? 0;
};

/** Runs `during` with PostgreSQL stopped, and starts it again whatever happens. */
async function whileDatabaseAway(during: () => Promise<void>): Promise<void> {
  await server.stop();
  try {
    await during();
  } finally {
    await server.start();
  }
}

const startWorker = async (): Promise<RunningNode> => (worker ??= await startTestNode({ ...env, ROLE: 'worker' }));

beforeAll(async () => {
  server = await startPrivatePostgres();
  vhost = await createTestVhost();
  world = await startFcmWorld();
  sql = new pg.Pool({ connectionString: server.url, max: 2 });
  sql.on('error', () => undefined); // idle clients lose the server when the test stops it
  env = {
    DATABASE_URL: server.url,
    AMQP_URL: vhost.url,
    REDIS_URL: servicesEnv().TEST_REDIS_URL,
    BROKER_DELIVERY_LIMIT: '1',
    // A delivery is held 300 ms while PostgreSQL is away, then returned: two returns and RabbitMQ dead-letters it.
    DISPATCH_OUTAGE_HOLD_MS: '300',
    DISPATCH_STALL_MS: '2000',
    DISPATCH_REAPER_INTERVAL_MS: '250',
    ...world.env,
  };
  api = await startTestNode({ ...env, ROLE: 'api' });
  await waitFor('api ready', () => api.runtime.readiness('t').ready, 30_000);
  admin = await adminToken(sql);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await sql?.end();
  await world?.close();
  await vhost?.delete();
  await server?.destroy();
});

describe('job reaper', () => {
  it('resumes the fan-out of a job whose job message died after its last delivery while PostgreSQL was away, and delivers it', async () => {
    const { users, tokens } = await seedCustomers(sql, 12, { devices: 1, agency: 'REAP-A', prefix: 'reap-a' });
    // A consumer reads its queue's pause in PostgreSQL before it subscribes, so a worker starting while the database
    // is away consumes nothing. The worker starts first, its consumer of bill_due's queue held off (told directly,
    // not through queue_pauses), and is let go once PostgreSQL is away: it takes the job message it cannot record.
    const consumer = (await startWorker()).runtime.ref<ConsumerMessage>(consumerName('high_priority'));
    await waitFor('worker ready', () => worker!.runtime.readiness('t').ready, 30_000);
    await worker!.runtime.ask(consumer, 'pause', { reason: 'held until PostgreSQL is away' }, 5_000);
    const job = await postJob(api.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'bill_due', title: 'Facture', body: 'Votre facture.' });
    await waitFor('job message published', async () => (await sql.query(`SELECT 1 FROM outbox WHERE job_id = $1 AND published_at IS NOT NULL`, [job])).rowCount === 1);

    await whileDatabaseAway(async () => {
      await worker!.runtime.ask(consumer, 'resume', { reason: 'PostgreSQL is away' }, 5_000);
      await waitFor('the job message dead-lettered', async () => (await deadLettered()) >= 1, 20_000);
    });

    await waitJobsSettled(sql, [job], 30_000);
    expect(await jobRow(sql, job)).toMatchObject({ state: 'done', sent_count: tokens.length, failed_count: 0 });
    expect(tokens.every((t) => world.fake.deliveredTo(t) === 1)).toBe(true);
  }, 90_000);

  it('counts the tokens of a batch that died after its last delivery while PostgreSQL was away as failed, with a reason, and settles its job', async () => {
    const broker = (await (await startWorker()).runtime.ask(worker!.runtime.ref<BrokerMessage>('broker'), 'lend', {}, 1_000)) as Broker;
    const { users } = await seedCustomers(sql, 3, { devices: 1, agency: 'REAP-B', prefix: 'reap-b' });
    // A job fanned out into one batch of three tokens, the batch not handled yet.
    const { rows } = await sql.query<{ id: string; session_id: string; push_token: string }>(
      `WITH j AS (
         INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, state, created_at, updated_at)
         SELECT gen_random_uuid(), id, 'admin', $2, 'bill_due', 'normal', 'Facture', 'x', '\\x00', 'sending', now(), now() FROM users WHERE role = 'admin' LIMIT 1
         RETURNING id
       ), c AS (
         INSERT INTO fanout_checkpoints (job_id, next_batch_no, token_count, done_at, updated_at) SELECT id, 1, 3, now(), now() FROM j
       )
       SELECT j.id, s.id AS session_id, s.push_token FROM j, device_sessions s WHERE s.user_id = ANY($1::uuid[])`,
      [users, JSON.stringify({ kind: 'users', userIds: users })],
    );
    const job = rows[0]!.id;
    const before = await deadLettered();

    await whileDatabaseAway(async () => {
      const batch = { kind: 'push-batch', jobId: job, batchNo: 0, tokens: rows.map((r) => ({ sessionId: r.session_id, token: r.push_token })) };
      await broker.publish('normal', Buffer.from(JSON.stringify(batch)), { messageId: `${job}:0`, headers: { 'x-job-id': job } });
      await waitFor('the batch dead-lettered', async () => (await deadLettered()) > before, 20_000);
    });

    await waitJobsSettled(sql, [job], 30_000);
    const { rows: settled } = await sql.query(`SELECT state, sent_count, failed_count, failure_reason FROM notification_jobs WHERE id = $1`, [job]);
    expect(settled[0]).toMatchObject({ state: 'failed', sent_count: 0, failed_count: 3, failure_reason: expect.stringMatching(/3 token/) });
    expect(rows.every((r) => world.fake.deliveredTo(r.push_token) === 0)).toBe(true);
    // The job's creator reads the reason too.
    await waitFor('the api sees PostgreSQL again', () => api.runtime.readiness('t').ready, 30_000);
    const status = await fetch(`${api.apiUrl}/v1/notifications/${job}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(await status.json()).toMatchObject({ state: 'failed', counts: { failed: 3 }, failureReason: settled[0].failure_reason });
  }, 90_000);
});
