// RabbitMQ faults on a private node (restarting the shared one would hit every other test file):
// - down when a job is accepted → 202, and the job is delivered once it is back;
// - restarted while sends are open at FCM (the fake holds its answers), the job's queue has deliveries unacked by
//   the broker's own count (rabbitmqctl list_queues messages_unacknowledged), the job is not complete, and the API's
//   outbox relay has unconfirmed publishes → every token received at least once, and duplicates (requests received
//   per token beyond the first, the fake's own count) no more than the sends in flight (received, unanswered) when
//   the worker lost its connection.
// The API and the worker are separate nodes, as in production; the fake FCM is the witness.
//
// Shown failing against a deliberately broken product (each applied locally, the restart test run, then reverted):
// - "every token received": the worker does not consume again after RabbitMQ comes back — in
//   src/adapters/broker/amqp-broker.ts connect(), subscribe the consumers at the first connection only (wrap
//   `await this.consumers.subscribeAll();` in
//   `if (!this.connectedOnce) { this.connectedOnce = true; … }`) → fails on "every token of the restart job received
//   at least once: 1040 of 3040 never received".
// - "duplicates within the sends in flight": a redelivered copy of a batch already recorded sends it again — in
//   src/dispatch/dispatch-handler.ts claim(), `if (r?.done) return { state: 'done', owed: r.owed ?? [] };` becomes
//   `if (r?.done) return { state: 'claimed', progress: recordedProgress(null), tookOverFrom: undefined };` → fails
//   on "duplicates (requests received per token beyond the first): expected 2000 to be less than or equal to 40".
// - "deliveries unacked at the broker before the stop": ack each delivery before handling it — in
//   actors/dispatch/queue-consumer-actor.ts handler(), `const decided = await options.handle(delivery)` becomes
//   `void Promise.resolve(options.handle(delivery)).catch(() => undefined); const decided = 'ack';` → fails on
//   "timed out waiting for normal deliveries unacked at the broker" (rabbitmqctl's count stays 0; nothing would be
//   redelivered after a crash).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/adapters/broker/broker.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import type { RunningNode } from '../../src/node.js';
import { adminToken, jobRow, postJob, seedCustomers, startFcmWorld, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
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
  // Each node its own NODE_ID, as separate processes have: both run in this test process, where the default
  // (host name and pid) would be one id for two nodes replacing each other's registry row — a live worker would
  // then look gone now and then, and its own redelivered copies would take over its batches.
  api = await startTestNode({ ...env, ROLE: 'api', NODE_ID: `faults-api-${process.pid}` });
  worker = await startTestNode({ ...env, ROLE: 'worker', NODE_ID: `faults-worker-${process.pid}` });
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
/** The broker's own count of deliveries not acknowledged yet on `queue` (rabbitmqctl, not the product's counter). */
async function unackedAtBroker(queue: string): Promise<number> {
  const out = await rabbit.ctl(['-q', 'list_queues', 'name', 'messages_unacknowledged', '--formatter', 'json']);
  const rows = JSON.parse(out) as Array<{ name: string; messages_unacknowledged: number }>;
  return rows.find((r) => r.name === queue)?.messages_unacknowledged ?? 0;
}
const brokerOf = (node: RunningNode) => node.runtime.ask(node.runtime.ref<BrokerMessage>('broker'), 'lend', {}, 1_000) as Promise<Broker>;

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

  it('Broker restart with sends open at FCM, deliveries unacked and relay publishes unconfirmed: every token received, duplicates within the sends in flight', async () => {
    const big = await seedCustomers(sql, 3_000, { devices: 1, agency: 'RESTART-A', prefix: 'restart-a' });
    const small = await seedCustomers(sql, 40, { devices: 1, agency: 'RESTART-B', prefix: 'restart-b' });
    world.fake.reset();
    // The fake holds its answers: sends reach it (counted as received) and stay open.
    world.fake.hold();
    try {
      const first = await postJob(api.apiUrl!, admin, { target: { kind: 'agency', agency: 'RESTART-A' }, type: 'monthly_summary', title: 'Résumé', body: 'x' });
      await world.fake.waitFor(1, { of: 'received', timeoutMs: 30_000 });
      // The broker's own count: the job's queue has deliveries out and unacknowledged.
      const unacked = await waitFor('normal deliveries unacked at the broker', async () => {
        const n = await unackedAtBroker('normal');
        return n > 0 ? n : undefined;
      }, 30_000);
      expect(['accepted', 'fanning_out', 'sending']).toContain((await jobRow(sql, first)).state);

      // A memory alarm blocks publishers: the relay's next publishes stay unconfirmed.
      await rabbit.ctl(['set_vm_memory_high_watermark', '0.000001']);
      const later: string[] = [];
      for (let i = 0; i < 4; i++) {
        later.push(await postJob(api.apiUrl!, admin, { target: { kind: 'users', userIds: small.users.slice(i * 10, i * 10 + 10) }, type: 'bill_due', title: 'Facture', body: `n°${i}` }));
      }
      const apiBroker = await brokerOf(api);
      await waitFor('relay publishes unconfirmed', () => apiBroker.unconfirmed > 0, 15_000);
      expect(apiBroker.unconfirmed).toBeGreaterThan(0);

      // At the stop: sends open at FCM (received, unanswered), deliveries unacked at the broker, job not complete.
      const openAtStop = world.fake.held();
      const receivedAtStop = world.fake.stats().received;
      expect(openAtStop).toBeGreaterThan(0);
      expect(await unackedAtBroker('normal')).toBeGreaterThan(0);
      expect(['accepted', 'fanning_out', 'sending']).toContain((await jobRow(sql, first)).state);
      const heldSince = world.fake.receipts()[0]!.at;

      const stopping = rabbit.stop();
      // The answers are released once the worker lost its connection (the node closes them first as it stops): FCM
      // answers the sends that were open while the worker can no longer ack their deliveries, which RabbitMQ will
      // redeliver — the copies must not send them again. Held no longer than that: the sender gives up on a send
      // after 15 s (FCM_REQUEST_TIMEOUT_MS) and sends it again, which would be measured as a duplicate too.
      const workerBroker = await brokerOf(worker);
      await waitFor('the worker sees RabbitMQ down', () => !workerBroker.isUp, 60_000);
      const openAtRelease = world.fake.held();
      // Every send received so far is unanswered (held): all of them were in flight when RabbitMQ went away.
      const inFlight = world.fake.stats().received;
      const heldMs = performance.now() - heldSince;
      world.fake.release();
      await stopping;
      await rabbit.start(); // the alarm does not survive the restart

      const allTokens = [...big.tokens, ...small.tokens];
      await waitFor('every token of the restart job received at least once', () => allTokens.every((t) => world.fake.requestsReceived(t) > 0), 90_000).catch((e: unknown) => {
        const missing = allTokens.filter((t) => world.fake.requestsReceived(t) === 0);
        throw new Error(`every token of the restart job received at least once: ${missing.length} of ${allTokens.length} never received (${String(e)})`);
      });
      await waitJobsSettled(sql, [first, ...later], 90_000);
      expect(allDelivered(big.tokens)).toBe(true);
      expect(allDelivered(small.tokens)).toBe(true);

      const duplicates = world.fake.duplicates();
      console.log(
        `broker restart: ${unacked} deliveries unacked at the broker, ${openAtStop} sends open at FCM at the stop ` +
          `(${receivedAtStop} received), ${openAtRelease} open at the release (${inFlight} received; answers held ${Math.round(heldMs)} ms); duplicates (requests received beyond the first per token): ${duplicates}`,
      );
      // Duplicates are bounded by what was in flight: only a send open when RabbitMQ went away may go again (each
      // was received and left unanswered; if the hold outlasts the sender's 15 s timeout it is sent again, still
      // within this count). Whole redelivered batches sent again would be up to (unacked deliveries) × 500.
      expect(duplicates, 'duplicates (requests received per token beyond the first)').toBeLessThanOrEqual(inFlight);
    } finally {
      world.fake.release();
    }
  }, 180_000);
});
