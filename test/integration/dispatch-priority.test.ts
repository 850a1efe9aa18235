// Priority where it really happens, the push scheduler, measured by the fake FCM (the order it received messages
// in), with latency injected so that a 20,000-send low-priority backlog takes seconds to drain:
// - urgent jobs accepted after the low job all reach FCM before the low backlog drains;
// - no starvation: while urgent work arrives at about half the pool's capacity, low keeps progressing.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { postJob, seedCustomers, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import { waitFor } from '../support/wait.js';

let setup: DispatchNode;
let world: FcmWorld;
let node: RunningNode;
let sql: pg.Pool;
let admin: string;

beforeAll(async () => {
  // Every send takes 60 ms: with 4 batch slots of at most 100 low tokens, 20,000 low sends need several seconds.
  setup = await startDispatchNode({ fake: { latencyMs: 60 }, env: { FCM_BATCHES_IN_FLIGHT: '4', FCM_URGENT_RESERVED: '1', DISPATCH_LOW_SPLIT: '100' } });
  ({ world, node, sql, admin } = setup);
}, 60_000);
afterAll(async () => {
  await setup?.stop();
});

const lowSent = () => world.fake.received.filter((m) => m.token?.startsWith('prio-low')).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('priority under a low-priority backlog', () => {
  it('sends every urgent job accepted after a 20,000-send low job before the low backlog drains, and low keeps progressing meanwhile', async () => {
    const low = await seedCustomers(sql, 20_000, { devices: 1, agency: 'PRIO-LOW', prefix: 'prio-low' });
    const urgentUsers: string[][] = [];
    const urgentTokens: string[] = [];
    for (let i = 0; i < 24; i++) {
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
    const urgentStart = performance.now();
    for (const users of urgentUsers) {
      urgentJobs.push(await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'outage', title: 'Panne', body: 'Panne en cours.' }));
      await sleep(everyMs);
    }
    await waitJobsSettled(sql, urgentJobs, 30_000);
    const lowAtUrgentDone = lowSent();
    const urgentSeconds = (performance.now() - urgentStart) / 1000;

    // Every urgent message reached FCM before the low backlog drained.
    expect(lowAtUrgentDone).toBeLessThan(low.tokens.length);
    const urgent = world.fake.received.filter((m) => m.token?.startsWith('prio-urg'));
    expect(urgent).toHaveLength(urgentTokens.length);
    for (const t of urgentTokens) expect(world.fake.deliveredTo(t)).toBe(1);
    await waitJobsSettled(sql, [lowJob], 60_000);
    const lastLow = Math.max(...world.fake.received.filter((m) => m.token?.startsWith('prio-low')).map((m) => m.at));
    expect(Math.max(...urgent.map((m) => m.at))).toBeLessThan(lastLow);
    // No starvation: over the whole urgent stream (about a second of urgent work), low kept going at a real share
    // of its own rate — not a trickle. Slots count batches, so small urgent batches take more of them than their
    // tokens' share: the floor is 10 % of low's rate alone, where starvation would be ~0.
    const lowRateDuringUrgent = (lowAtUrgentDone - lowAtFirstUrgent) / urgentSeconds;
    expect(lowRateDuringUrgent).toBeGreaterThan(lowRate * 0.1);
    // Everything of the low job arrived too.
    for (const t of low.tokens) expect(world.fake.deliveredTo(t)).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
