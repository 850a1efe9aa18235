// RabbitMQ faults on a private node (restarting the shared one would hit every other test file):
// - down when a job is accepted → 202, and the job is delivered once it is back;
// - restarted while the API's outbox relay has unconfirmed publishes and the worker's consumers hold unacked
//   deliveries (both checked above zero at the restart) → nothing lost.
// The API and the worker are separate nodes, as in production; the fake FCM counts deliveries.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import type { BrokerMessage } from '../../src/contracts/broker.js';
import type { ConsumerMessage } from '../../src/contracts/consumer.js';
import type { RunningNode } from '../../src/node.js';
import { adminToken, postJob, seedCustomers, startFcmWorld, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import { startTestNode } from '../support/node.js';
import { startPrivateRabbitmq, type PrivateRabbitmq } from '../support/private-rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let rabbit: PrivateRabbitmq;
let world: FcmWorld;
let api: RunningNode;
let worker: RunningNode;
let sql: pg.Pool;
let admin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  rabbit = await startPrivateRabbitmq();
  world = await startFcmWorld({ latencyMs: 30 });
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  const env = {
    DATABASE_URL: db.url,
    AMQP_URL: rabbit.url,
    REDIS_URL: servicesEnv().TEST_REDIS_URL,
    BROKER_RETRY_TIERS_MS: '50,100,200',
    DISPATCH_CLAIM_LEASE_MS: '2000',
    FCM_SENDS_PER_THREAD: '20',
    ...world.env,
  };
  api = await startTestNode({ ...env, ROLE: 'api' });
  worker = await startTestNode({ ...env, ROLE: 'worker' });
  await waitFor('both ready', () => api.runtime.readiness('t').ready && worker.runtime.readiness('t').ready, 60_000);
  admin = await adminToken(sql);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await sql?.end();
  await world?.close();
  await rabbit?.destroy();
  await db?.drop();
});

const allDelivered = (tokens: readonly string[]) => tokens.every((t) => world.fake.deliveredTo(t) > 0);
const brokerOf = (node: RunningNode) => node.runtime.ask(node.runtime.ref<BrokerMessage>('broker'), 'handle', {}, 1_000) as Promise<Broker>;

describe('RabbitMQ faults', () => {
  it('accepts a job while RabbitMQ is down (202) and delivers it once RabbitMQ is back', async () => {
    const { users, tokens } = await seedCustomers(sql, 30, { devices: 2, agency: 'DOWN', prefix: 'down' });
    await rabbit.stop();
    await waitFor('api sees the broker down', async () => !(await brokerOf(api)).isUp, 15_000);
    const job = await postJob(api.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'bill_due', title: 'Facture', body: 'Votre facture arrive à échéance.' });
    const { rows } = await sql.query(`SELECT published_at FROM outbox WHERE job_id = $1`, [job]);
    expect(rows).toEqual([{ published_at: null }]);
    await rabbit.start();
    await waitJobsSettled(sql, [job], 60_000);
    expect(allDelivered(tokens)).toBe(true);
  }, 120_000);

  it('loses nothing when RabbitMQ restarts with relay publishes unconfirmed and deliveries unacked', async () => {
    const big = await seedCustomers(sql, 3_000, { devices: 1, agency: 'RESTART-A', prefix: 'restart-a' });
    const small = await seedCustomers(sql, 40, { devices: 1, agency: 'RESTART-B', prefix: 'restart-b' });
    const first = await postJob(api.apiUrl!, admin, { target: { kind: 'agency', agency: 'RESTART-A' }, type: 'monthly_summary', title: 'Résumé', body: 'x' });
    // The worker is sending the big job: its normal consumer holds deliveries it has not acked yet.
    const consumer = worker.runtime.ref<ConsumerMessage>('consumer.normal');
    await waitFor('unacked deliveries in the worker', async () => (await worker.runtime.ask(consumer, 'stats', {}, 1_000)).inFlight > 0, 30_000);
    // A memory alarm blocks publishers: the relay's next publishes stay unconfirmed.
    await rabbit.ctl(['set_vm_memory_high_watermark', '0.000001']);
    const later: string[] = [];
    for (let i = 0; i < 4; i++) {
      later.push(await postJob(api.apiUrl!, admin, { target: { kind: 'users', userIds: small.users.slice(i * 10, i * 10 + 10) }, type: 'bill_due', title: 'Facture', body: `n°${i}` }));
    }
    const apiBroker = await brokerOf(api);
    await waitFor('relay publishes unconfirmed', () => apiBroker.unconfirmed > 0, 15_000);
    const unacked = (await worker.runtime.ask(consumer, 'stats', {}, 1_000)).inFlight;
    const unconfirmed = apiBroker.unconfirmed;
    expect(unconfirmed).toBeGreaterThan(0);
    expect(unacked).toBeGreaterThan(0);

    await rabbit.restart(); // the alarm does not survive the restart

    await waitJobsSettled(sql, [first, ...later], 90_000);
    expect(allDelivered(big.tokens)).toBe(true);
    expect(allDelivered(small.tokens)).toBe(true);
  }, 180_000);
});
