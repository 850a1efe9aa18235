// Priority where it really happens, the push scheduler, measured by the fake FCM (the order it received messages
// in), with latency injected so that a 20,000-send low-priority backlog takes seconds to drain:
// - urgent jobs accepted after the low job all reach FCM before the low backlog drains;
// - no starvation: while urgent work arrives at about half the pool's capacity, low keeps progressing.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { adminToken, postJob, seedCustomers, startFcmWorld, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let vhost: TestVhost;
let world: FcmWorld;
let node: RunningNode;
let sql: pg.Pool;
let admin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  vhost = await createTestVhost();
  // Every send takes 60 ms: with 4 batch slots of at most 100 low tokens, 20,000 low sends need several seconds.
  world = await startFcmWorld({ latencyMs: 60 });
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  node = await startTestNode({
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    REDIS_URL: servicesEnv().TEST_REDIS_URL,
    FCM_BATCHES_IN_FLIGHT: '4',
    FCM_URGENT_RESERVED: '1',
    DISPATCH_LOW_SPLIT: '100',
    ...world.env,
  });
  await waitFor('ready', () => node.runtime.readiness('test').ready, 30_000);
  admin = await adminToken(sql);
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await world?.close();
  await vhost?.delete();
  await db?.drop();
});

const lowSent = () => world.fake.received.filter((m) => m.token?.startsWith('prio-low')).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('priority under a low-priority backlog', () => {
  it('sends every urgent job accepted after a 20,000-send low job before the low backlog drains, and low keeps progressing meanwhile', async () => {
    const low = await seedCustomers(sql, 20_000, { devices: 1, agency: 'PRIO-LOW', prefix: 'prio-low' });
    const urgentUsers: string[][] = [];
    const urgentTokens: string[] = [];
    for (let i = 0; i < 12; i++) {
      const seeded = await seedCustomers(sql, 40, { devices: 1, agency: `PRIO-U${i}`, prefix: `prio-urg${i}` });
      urgentUsers.push(seeded.users);
      urgentTokens.push(...seeded.tokens);
    }

    const lowJob = await postJob(node.apiUrl!, admin, { target: { kind: 'agency', agency: 'PRIO-LOW' }, type: 'planned_works', title: 'Travaux', body: 'Coupure prévue.' });
    // The backlog is queued and draining.
    await waitFor('low draining', () => lowSent() >= 1_000, 30_000);

    // The low rate alone, to size the urgent stream at about half of it.
    const t0 = performance.now();
    const n0 = lowSent();
    await sleep(500);
    const lowRate = ((lowSent() - n0) * 1000) / (performance.now() - t0);
    expect(lowRate).toBeGreaterThan(0);

    // Urgent jobs of 40 devices, posted every 40 / (lowRate / 2) seconds: about half the measured capacity.
    const everyMs = Math.max(20, (40 / (lowRate / 2)) * 1000);
    const urgentJobs: string[] = [];
    const lowAtFirstUrgent = lowSent();
    for (const users of urgentUsers) {
      urgentJobs.push(await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'outage', title: 'Panne', body: 'Panne en cours.' }));
      await sleep(everyMs);
    }
    await waitJobsSettled(sql, urgentJobs, 30_000);
    const lowAtUrgentDone = lowSent();

    // Every urgent message reached FCM before the low backlog drained.
    expect(lowAtUrgentDone).toBeLessThan(low.tokens.length);
    const urgent = world.fake.received.filter((m) => m.token?.startsWith('prio-urg'));
    expect(urgent).toHaveLength(urgentTokens.length);
    for (const t of urgentTokens) expect(world.fake.deliveredTo(t)).toBe(1);
    await waitJobsSettled(sql, [lowJob], 60_000);
    const lastLow = Math.max(...world.fake.received.filter((m) => m.token?.startsWith('prio-low')).map((m) => m.at));
    expect(Math.max(...urgent.map((m) => m.at))).toBeLessThan(lastLow);
    // No starvation: low went on while the urgent stream ran (a good share of its own rate, not a trickle).
    expect(lowAtUrgentDone - lowAtFirstUrgent).toBeGreaterThan(0);
    const elapsedUrgent = (Math.max(...urgent.map((m) => m.at)) - Math.min(...urgent.map((m) => m.at))) / 1000;
    const lowDuring = world.fake.received.filter((m) => m.token?.startsWith('prio-low') && m.at >= Math.min(...urgent.map((u) => u.at)) && m.at <= Math.max(...urgent.map((u) => u.at))).length;
    expect(lowDuring / Math.max(elapsedUrgent, 0.001)).toBeGreaterThan(lowRate * 0.2);
    // Everything of the low job arrived too.
    for (const t of low.tokens) expect(world.fake.deliveredTo(t)).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
