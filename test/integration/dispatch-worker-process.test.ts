// The worker as its own process, killed for real. SIGKILL mid-run: after a restart every token of every accepted
// job reached the fake FCM, none lost, and the duplicates stay within what the killed worker held unacked
// (prefetch × batch size, computed from the configuration). SIGTERM mid-run: the worker stops pulling, finishes
// and acks what it holds, exits 0, and the next worker sends the rest without a single duplicate.
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FANOUT_BATCH } from '../../src/dispatch/fan-out.js';
import type { RunningNode } from '../../src/node.js';
import { adminToken, jobRow, postJob, seedCustomers, startFcmWorld, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import { startTestNode, testConfig } from '../support/node.js';
import { mintToken } from '../support/tokens.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';
import { startNodeProcess, type NodeProcess } from '../support/worker-process.js';

let db: TestDatabase;
let vhost: TestVhost;
let world: FcmWorld;
let api: RunningNode;
let sql: pg.Pool;
let admin: string;
let env: Record<string, string>;
const workers: NodeProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  vhost = await createTestVhost();
  // Latency keeps a few thousand sends in flight for a second or two: long enough to kill the worker mid-run.
  world = await startFcmWorld({ latencyMs: 25 });
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  env = {
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    REDIS_URL: servicesEnv().TEST_REDIS_URL,
    BROKER_RETRY_TIERS_MS: '50,100,200',
    // A killed worker's claims expire quickly, so its successor takes the batches over within the test.
    DISPATCH_CLAIM_LEASE_MS: '1500',
    FCM_POOL_THREADS: '1',
    FCM_SENDS_PER_THREAD: '50',
    SHUTDOWN_TIMEOUT_MS: '20000',
    ...world.env,
  };
  api = await startTestNode({ ...env, ROLE: 'api' });
  await waitFor('api ready', () => api.runtime.readiness('test').ready, 30_000);
  admin = await adminToken(sql);
}, 60_000);
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await api?.stop();
  await sql?.end();
  await world?.close();
  await vhost?.delete();
  await db?.drop();
});

const startWorker = async (): Promise<NodeProcess> => {
  const w = await startNodeProcess('worker', env);
  workers.push(w);
  return w;
};
const delivered = (tokens: readonly string[]) => tokens.filter((t) => world.fake.deliveredTo(t) > 0).length;
const duplicates = (tokens: readonly string[]) => tokens.reduce((n, t) => n + Math.max(0, world.fake.deliveredTo(t) - 1), 0);

describe('a worker process killed mid-run', () => {
  it('SIGKILL: after a restart every token was delivered, duplicates within prefetch × batch size', async () => {
    const { tokens } = await seedCustomers(sql, 4_000, { devices: 1, agency: 'KILL', prefix: 'kill' });
    const first = await startWorker();
    const job = await postJob(api.apiUrl!, admin, { target: { kind: 'agency', agency: 'KILL' }, type: 'monthly_summary', title: 'Résumé', body: 'Votre consommation du mois.' });
    await waitFor('some sends', () => delivered(tokens) >= 600, 30_000).catch((e: unknown) => {
      throw new Error(`${String(e)}; delivered ${delivered(tokens)}; fake ${JSON.stringify(world.fake.stats())}; worker output:\n${first.output()}`);
    });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const sentBeforeRestart = delivered(tokens);
    expect(sentBeforeRestart).toBeLessThan(tokens.length);

    const second = await startWorker();
    // The worker role serves its own ops port: readiness names each of the four consumers, metrics count them.
    const ready = await waitFor('worker ready', async () => {
      const r = await fetch(`${second.opsUrl}/health/ready`);
      return r.status === 200 ? ((await r.json()) as { parts: Array<{ name: string; state: string }> }) : undefined;
    }, 30_000);
    for (const q of ['urgent', 'high_priority', 'normal', 'low_priority']) expect(ready.parts).toContainEqual(expect.objectContaining({ name: `consumer.${q}`, state: 'running' }));
    expect(await (await fetch(`${second.opsUrl}/metrics`)).text()).toMatch(/^samaconso_consumer_in_flight\{queue="normal"\} \d+/m);
    await waitJobsSettled(sql, [job], 60_000).catch(async (e: unknown) => {
      const row = await jobRow(sql, job);
      const claims = (await sql.query(`SELECT batch_id, claimed_by, expires_at FROM batch_claims`)).rows;
      throw new Error(`${String(e)}; job ${JSON.stringify(row)}; delivered ${delivered(tokens)}/${tokens.length}; claims ${JSON.stringify(claims)}; worker output:\n${second.output().slice(-4000)}`);
    });
    expect(delivered(tokens)).toBe(tokens.length);
    // What the killed worker held unacked (and may have sent in part) is all that can go twice.
    const bound = testConfig(env).dispatch.prefetch.normal * MAX_FANOUT_BATCH;
    expect(duplicates(tokens)).toBeLessThanOrEqual(bound);
  }, 120_000);

  it('SIGTERM: stops pulling, finishes and acks what it holds, exits 0; the next worker sends the rest, no duplicates', async () => {
    const running = workers.at(-1)!;
    const { tokens } = await seedCustomers(sql, 6_000, { devices: 1, agency: 'TERM', prefix: 'term' });
    const job = await postJob(api.apiUrl!, admin, { target: { kind: 'agency', agency: 'TERM' }, type: 'monthly_summary', title: 'Résumé', body: 'Votre consommation du mois.' });
    await waitFor('some sends', () => delivered(tokens) >= 600, 30_000);
    running.child.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
    const afterDrain = delivered(tokens);
    expect(afterDrain).toBeLessThan(tokens.length);

    await startWorker();
    await waitJobsSettled(sql, [job], 60_000);
    expect(delivered(tokens)).toBe(tokens.length);
    expect(duplicates(tokens)).toBe(0);
  }, 120_000);

  it('pushes the new inbox entry to the WebSocket of a user connected to the API process, the job running in the worker process', async () => {
    const { users } = await seedCustomers(sql, 1, { devices: 1, agency: 'LIVE', prefix: 'live' });
    const token = await mintToken({ role: 'customer', sub: users[0]! });
    const ws = new WebSocket(`${api.apiUrl!.replace('http', 'ws')}/v1/me/notifications/live`, { headers: { authorization: `Bearer ${token}` } });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const received = new Promise<{ type: string; entry: Record<string, unknown> }>((resolve) => ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))));
      const job = await postJob(api.apiUrl!, admin, { target: { kind: 'user', userId: users[0] }, type: 'outage', title: 'Panne', body: 'Panne dans votre quartier.' });
      const msg = await received;
      expect(msg).toMatchObject({ type: 'notification', entry: { jobId: job, type: 'outage', title: 'Panne', read: false } });
      // The same entry the inbox lists.
      const res = await fetch(`${api.apiUrl}/v1/me/notifications`, { headers: { authorization: `Bearer ${token}` } });
      const list = (await res.json()) as { items: Array<Record<string, unknown>> };
      expect(list.items[0]).toEqual(msg.entry);
    } finally {
      ws.close();
    }
  }, 60_000);
});
