// Priority where it really happens, the push scheduler, witnessed by the fake FCM (which job's tokens it received,
// and when: its receipts, in order of receipt, with the job id the product puts in each message's data), with the
// backlog *in the scheduler*: the node runs with a large low_priority prefetch (CONSUMER_PREFETCH low_priority=40,
// i.e. 40 batches of up to 500 tokens: the whole low job fits in the scheduler's low queue), and the urgent tests
// assert that the worker's own gauge (samaconso_push_queued_tokens) shows that backlog when urgent jobs arrive.
// With the default low prefetch of 2 the backlog waited in RabbitMQ, and the old version of this test passed against
// a FIFO scheduler (variant 1 below; checked, issue 9).
// - urgent behind a scheduler full of low work: each urgent job's latency (202 → its last token received at the
//   fake) is measured in a unit measured in the same test on the idle node (a lone urgent job of the same shape,
//   202 → last token received, plus a lone low batch of DISPATCH_LOW_SPLIT slow sends, 202 → last answer) and must
//   stay under 4 units; the test also checks it can tell: what FIFO would cost (queued low tokens / low's own rate)
//   must be over 8 units (it measures 15–40);
// - the urgent reservation: with every shared send slot holding a low batch the fake answers only after HOLD (3 s,
//   one low batch's send time), an urgent job is received in under 0.5 HOLD, and before any of those low sends is
//   answered;
// - shares: under sustained high-priority overload, over the longest window where all three shared queues have
//   tokens queued in the scheduler (sampled from /metrics), high, normal and low each get within 0.1 of their
//   DISPATCH_WEIGHTS share (6:3:1 → 0.6, 0.3, 0.1) of the tokens the fake received in that window.
//
// Broken variants this file was run against (2026-12-03, each applied locally to src/domain/push-scheduler.ts,
// seen failing, reverted; never committed):
// 1. FIFO across queues: give each Scheduled an offer sequence number (a WeakMap set in `offer()` for each part
//    pushed) and make `candidate()` pick, among the four queues (urgent included), the non-empty one whose head has
//    the smallest number; urgent still needs a free slot of maxInFlight, a shared queue still leaves the reserved
//    slots free. All three tests fail: "urgent job 0: latency 202 → last token received at the fake, in units of
//    (lone urgent job + lone low batch): expected 20.3 to be less than 4"; "urgent latency … in units of one gated
//    low batch send: expected 1.70 to be less than 0.5"; "high_priority: share 0.368 … expected 0.60".
// 2. Urgent reservation dropped (FCM_URGENT_RESERVED ignored): in `candidate()` replace
//    `Math.max(this.urgentInFlight, reservedForUrgent)` by `this.urgentInFlight`. The reservation test fails:
//    "urgent latency 202 → last token received at the fake, in units of one gated low batch send: expected 0.98 to
//    be less than 0.5" (the other two pass: an urgent job then waits for one low batch at most).
// 3. Equal weights (DISPATCH_WEIGHTS ignored): in the constructor, `this.weights = { high_priority: 1, normal: 1,
//    low_priority: 1 }`. The shares test fails: "high_priority: share 0.297 of the tokens received in the window,
//    expected 0.60: expected 0.30 to be less than 0.1".
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PriorityQueue } from '../../src/domain/priority.js';
import type { RunningNode } from '../../src/node.js';
import { postJob, seedCustomers, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import type { FcmMessage } from '../support/fcm/fake-fcm-server.js';
import { metricValue } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';

const SLOTS = 4;
const URGENT_RESERVED = 1;
const LOW_SPLIT = 100;
const WEIGHTS = { high_priority: 6, normal: 3, low_priority: 1 } as const;
// Large enough that every batch of the jobs below fits in the scheduler (each delivery is a batch of up to 500).
const PREFETCH = 'urgent=8,high_priority=16,normal=16,low_priority=40';

let setup: DispatchNode;
let world: FcmWorld;
let node: RunningNode;
let sql: pg.Pool;
let admin: string;
/** The fake's answer delay per message; each test sets its own. */
let latencyOf: (m: FcmMessage) => number = () => 20;

beforeAll(async () => {
  setup = await startDispatchNode({
    fake: { latencyMs: (m) => latencyOf(m) },
    env: {
      FCM_BATCHES_IN_FLIGHT: String(SLOTS),
      FCM_URGENT_RESERVED: String(URGENT_RESERVED),
      DISPATCH_LOW_SPLIT: String(LOW_SPLIT),
      DISPATCH_WEIGHTS: `${WEIGHTS.high_priority},${WEIGHTS.normal},${WEIGHTS.low_priority}`,
      CONSUMER_PREFETCH: PREFETCH,
    },
  });
  ({ world, node, sql, admin } = setup);
}, 60_000);
afterAll(async () => {
  await setup?.stop();
});

/**
 * What the fake received of each job (its receipts, in order of receipt: the product puts the job id in each
 * message's data): how many requests, and when the last one was received. Indexed as receipts come in.
 */
const byJob = new Map<string, { n: number; last: number }>();
let indexed = 0;
function received(jobId: string): { n: number; last: number } {
  const receipts = world.fake.receipts();
  for (; indexed < receipts.length; indexed++) {
    const r = receipts[indexed]!;
    if (r.jobId === undefined) continue;
    const j = byJob.get(r.jobId) ?? { n: 0, last: 0 };
    j.n++;
    j.last = Math.max(j.last, r.at);
    byJob.set(r.jobId, j);
  }
  return byJob.get(jobId) ?? { n: 0, last: Number.NaN };
}
const countOf = (jobId: string) => received(jobId).n;
const lastAt = (jobId: string) => received(jobId).last;
const queued = async (queue: PriorityQueue) => (await metricValue(node, `samaconso_push_queued_tokens{queue="${queue}"}`)) ?? 0;

/** Posts a job; returns its id and when the 202 came back (performance.now(), the fake's clock). */
async function post(body: unknown): Promise<{ id: string; acceptedAt: number }> {
  const id = await postJob(node.apiUrl!, admin, body);
  return { id, acceptedAt: performance.now() };
}

/** 202 → the job's last token received by the fake, once all `tokens` of it were. */
async function latencyOfJob(job: { id: string; acceptedAt: number }, tokens: number, timeoutMs = 60_000): Promise<number> {
  await waitFor(`job ${job.id}: ${tokens} tokens received at the fake`, () => countOf(job.id) >= tokens, timeoutMs);
  return lastAt(job.id) - job.acceptedAt;
}

/** Nothing queued in the scheduler and nothing open at the fake: a test starts from an idle node. */
async function idle(): Promise<void> {
  await waitFor(
    'an idle node (nothing queued in the scheduler, nothing open at the fake)',
    async () => {
      if (world.fake.held() > 0) return false;
      for (const q of ['urgent', 'high_priority', 'normal', 'low_priority'] as const) if ((await queued(q)) > 0) return false;
      return true;
    },
    120_000,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('priority with the backlog in the push scheduler', () => {
  it('sends each urgent job accepted behind a scheduler full of low work within a few batch send times, while low keeps progressing', async () => {
    // Low sends are slow (each low batch holds its slot for a while), everything else quick: the low backlog takes
    // seconds to drain, and an urgent job that waited behind it would show.
    await idle();
    latencyOf = (m) => (m.token?.startsWith('prio-low') ? 200 : 20);
    const LOW = 12_000;
    const low = await seedCustomers(sql, LOW, { devices: 1, agency: 'PRIO-LOW', prefix: 'prio-low' });
    for (let i = 0; i < 3; i++) await seedCustomers(sql, LOW_SPLIT, { devices: 1, agency: `PRIO-LOW1-${i}`, prefix: `prio-lowone${i}` });
    const lone: string[][] = [];
    for (let i = 0; i < 3; i++) lone.push((await seedCustomers(sql, 40, { devices: 1, agency: `PRIO-L${i}`, prefix: `prio-lone${i}` })).users);
    const urgentUsers: string[][] = [];
    const urgentTokens: string[] = [];
    for (let i = 0; i < 6; i++) {
      const seeded = await seedCustomers(sql, 40, { devices: 1, agency: `PRIO-U${i}`, prefix: `prio-urg${i}` });
      urgentUsers.push(seeded.users);
      urgentTokens.push(...seeded.tokens);
    }
    const urgentBody = (userIds: string[]) => ({ target: { kind: 'users', userIds }, type: 'outage', title: 'Panne', body: 'Panne en cours.' });

    // The units, on the idle node: a lone urgent job of the same shape (202 → its last token received: its whole
    // path, outbox, fan-out, consumer, scheduler, sender), and a lone low batch (202 → its last answer: one chunk of
    // DISPATCH_LOW_SPLIT slow low sends, the time a low batch holds a send slot, plus its path).
    const loneUrgent: number[] = [];
    for (const users of lone) loneUrgent.push(await latencyOfJob(await post(urgentBody(users)), 40));
    const urgentAlone = median(loneUrgent);
    // A batch's send time runs to its last answer (that is when its slot frees).
    const loneLow: number[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await post({ target: { kind: 'agency', agency: `PRIO-LOW1-${i}` }, type: 'planned_works', title: 'Travaux', body: 'Coupure prévue.' });
      const answers = () => world.fake.received.filter((m) => m.data?.job_id === job.id);
      await waitFor(`lone low batch ${i} answered`, () => answers().length >= LOW_SPLIT, 60_000);
      loneLow.push(Math.max(...answers().map((m) => m.at)) - job.acceptedAt);
    }
    const lowBatch = median(loneLow);
    const unit = urgentAlone + lowBatch; // an urgent job's own path plus one low batch in flight ahead of it

    const lowJob = await post({ target: { kind: 'agency', agency: 'PRIO-LOW' }, type: 'planned_works', title: 'Travaux', body: 'Coupure prévue.' });
    // The backlog is in the scheduler (the worker's own gauge), and draining (the fake).
    await waitFor('low backlog in the scheduler', async () => (await queued('low_priority')) >= LOW / 2, 30_000);
    await waitFor('low draining', () => countOf(lowJob.id) >= 3 * LOW_SPLIT, 30_000);
    // Low's own rate, to know what FIFO would cost: the time the queued backlog takes to drain.
    const r0 = { n: countOf(lowJob.id), t: performance.now() };
    await waitFor('low rate', () => countOf(lowJob.id) >= r0.n + 6 * LOW_SPLIT, 30_000);
    const lowRate = (countOf(lowJob.id) - r0.n) / (performance.now() - r0.t); // tokens per ms

    const report: { queuedLow: number; latency: number; units: number; fifoUnits: number }[] = [];
    const lowAtFirstUrgent = countOf(lowJob.id);
    const urgentStart = performance.now();
    const urgentJobs: string[] = [];
    for (const users of urgentUsers) {
      const before = await queued('low_priority');
      const job = await post(urgentBody(users));
      const after = await queued('low_priority');
      urgentJobs.push(job.id);
      const queuedLow = Math.min(before, after);
      const latency = await latencyOfJob(job, 40);
      report.push({ queuedLow, latency, units: latency / unit, fifoUnits: queuedLow / lowRate / unit });
    }
    const urgentMs = performance.now() - urgentStart;
    const lowDuringUrgent = countOf(lowJob.id) - lowAtFirstUrgent;
    console.log('priority: units', { urgentAlone, lowBatch, unit, lowRatePerS: lowRate * 1000, lowRateDuringUrgentPerS: (lowDuringUrgent / urgentMs) * 1000 }, 'urgent jobs', report);

    for (const [i, r] of report.entries()) {
      // The backlog was in the scheduler when the urgent job was accepted: at least a quarter of the low job.
      expect(r.queuedLow, `urgent job ${i}: low tokens queued in the scheduler at its 202`).toBeGreaterThanOrEqual(LOW / 4);
      // The test can tell: FIFO would have made this job wait for the queued low tokens, many units.
      expect(r.fifoUnits, `urgent job ${i}: what FIFO would cost (queued low tokens / low's rate), in units`).toBeGreaterThan(8);
      // It waited for no low backlog: within a few units (its own path and a low batch in flight; generous, for
      // a loaded machine).
      expect(r.units, `urgent job ${i}: latency 202 → last token received at the fake, in units of (lone urgent job + lone low batch)`).toBeLessThan(4);
    }
    await waitJobsSettled(sql, urgentJobs, 30_000);
    for (const t of urgentTokens) expect(world.fake.requestsReceived(t), `urgent token ${t}: requests received`).toBe(1);
    // Every urgent message reached FCM before the low backlog drained.
    await waitJobsSettled(sql, [lowJob.id], 120_000);
    expect(Math.max(...urgentJobs.map(lastAt))).toBeLessThan(lastAt(lowJob.id));
    // Low kept going while the urgent jobs went out (urgent takes the reserved slot, low keeps the shared ones): a
    // real part of its rate alone (measured ~0.7–1.0 on a loaded 2-core machine; starvation would be ~0).
    expect(lowDuringUrgent / urgentMs / lowRate, 'low rate during the urgent jobs over low rate alone').toBeGreaterThan(0.25);
    for (const t of low.tokens) expect(world.fake.deliveredTo(t), `low token ${t}`).toBeGreaterThanOrEqual(1);
  }, 240_000);

  it('keeps FCM_URGENT_RESERVED slots for urgent: an urgent job goes out while every shared slot holds a slow low batch', async () => {
    // HOLD: how long the fake takes to answer a low send once the gate is closed — the send time of a low batch of
    // DISPATCH_LOW_SPLIT sends (they fit the sender's in-flight window of 200 per thread: one round of the fake's
    // latency). The unit of this test's latency bound.
    await idle();
    const HOLD = 3_000;
    let gated = false;
    const gatedTokens = new Set<string>();
    // The fake calls this on receipt of each message (which low sends got the gate's latency).
    latencyOf = (m) => {
      if (!m.token?.startsWith('resv-low')) return 20;
      if (!gated) return 200;
      gatedTokens.add(m.token);
      return HOLD;
    };
    const low = await seedCustomers(sql, 3_000, { devices: 1, agency: 'RESV-LOW', prefix: 'resv-low' });
    const urgent = await seedCustomers(sql, 40, { devices: 1, agency: 'RESV-URG', prefix: 'resv-urg' });
    const lowJob = await post({ target: { kind: 'agency', agency: 'RESV-LOW' }, type: 'planned_works', title: 'Travaux', body: 'Coupure prévue.' });
    await waitFor('low backlog in the scheduler', async () => (await queued('low_priority')) >= 1_500, 30_000);
    await waitFor('low draining', () => countOf(lowJob.id) >= LOW_SPLIT, 30_000);

    // Close the gate, then wait until every send the fake has open is a gated low one (the fake's own count of
    // requests received and unanswered): the shared slots all hold gated low batches.
    gated = true;
    await waitFor(
      'every shared slot holding a gated low batch',
      () => gatedTokens.size >= (SLOTS - URGENT_RESERVED) * LOW_SPLIT && world.fake.held() === gatedTokens.size,
      30_000,
    );
    const queuedLow = await queued('low_priority');
    expect(queuedLow, 'low tokens still queued in the scheduler behind the gated batches').toBeGreaterThan(0);

    const job = await post({ target: { kind: 'users', userIds: urgent.users }, type: 'outage', title: 'Panne', body: 'Panne en cours.' });
    gated = false;
    const latency = await latencyOfJob(job, urgent.tokens.length);
    console.log('reservation', { latency, units: latency / HOLD, gatedInFlight: gatedTokens.size, queuedLow });
    // Well within one low batch's send time…
    expect(latency / HOLD, 'urgent latency 202 → last token received at the fake, in units of one gated low batch send').toBeLessThan(0.5);
    await waitJobsSettled(sql, [lowJob.id, job.id], 120_000);
    for (const t of urgent.tokens) expect(world.fake.requestsReceived(t), `urgent token ${t}: requests received`).toBe(1);
    for (const t of low.tokens) expect(world.fake.deliveredTo(t), `low token ${t}`).toBeGreaterThanOrEqual(1);
    // …and the urgent batch waited for no shared slot: it was received before any gated low send was answered.
    const firstGatedAnswer = Math.min(...world.fake.received.filter((m) => m.token !== undefined && gatedTokens.has(m.token)).map((m) => m.at));
    expect(lastAt(job.id), 'urgent job received before the first gated low send was answered (it waited for no low batch)').toBeLessThan(firstGatedAnswer);
  }, 240_000);

  it('gives high, normal and low about their weights of the tokens sent while all three have backlog (sustained high-priority overload)', async () => {
    await idle();
    latencyOf = () => 30;
    const SIZES = { high_priority: 6_000, normal: 6_000, low_priority: 3_000 } as const;
    const TYPES = { high_priority: 'bill_due', normal: 'new_bill', low_priority: 'planned_works' } as const;
    const queues = ['high_priority', 'normal', 'low_priority'] as const;
    for (const q of queues) await seedCustomers(sql, SIZES[q], { devices: 1, agency: `SHARE-${q}`, prefix: `share-${q}` });

    // Samples of the scheduler's queued tokens per queue, to find when all three had backlog.
    const samples: { t: number; q: Record<string, number> }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await (await fetch(`${node.opsUrl}/metrics`)).text();
        const t = performance.now();
        const q: Record<string, number> = {};
        for (const name of queues) {
          const line = text.split('\n').find((l) => l.startsWith(`samaconso_push_queued_tokens{queue="${name}"} `));
          q[name] = line === undefined ? 0 : Number(line.split(' ').at(-1));
        }
        samples.push({ t, q });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const jobs = {} as Record<(typeof queues)[number], string>;
    for (const q of queues) jobs[q] = (await post({ target: { kind: 'agency', agency: `SHARE-${q}` }, type: TYPES[q], title: 'Avis', body: 'Avis.' })).id;
    await waitJobsSettled(sql, Object.values(jobs), 120_000);
    sampling = false;
    await sampler;

    // The longest run of consecutive samples where every shared queue had tokens queued in the scheduler.
    let best = { from: 0, to: -1 };
    let start = -1;
    samples.forEach((s, i) => {
      const all = queues.every((q) => s.q[q]! > 0);
      if (all && start < 0) start = i;
      if (all && i - start > best.to - best.from) best = { from: start, to: i };
      if (!all) start = -1;
    });
    expect(best.to, 'a window where all three queues had backlog in the scheduler').toBeGreaterThan(best.from);
    const [t0, t1] = [samples[best.from]!.t, samples[best.to]!.t];
    const inWindow = (q: (typeof queues)[number]) => world.fake.receipts().filter((r) => r.jobId === jobs[q] && r.at >= t0 && r.at <= t1).length;
    const counts = Object.fromEntries(queues.map((q) => [q, inWindow(q)])) as Record<(typeof queues)[number], number>;
    const total = counts.high_priority + counts.normal + counts.low_priority;
    const share = (q: (typeof queues)[number]) => counts[q] / total;
    console.log('shares', { windowMs: t1 - t0, counts, shares: Object.fromEntries(queues.map((q) => [q, share(q)])) });
    // Enough tokens in the window for shares to mean something (many batches of each).
    expect(total).toBeGreaterThan(3_000);
    const sum = WEIGHTS.high_priority + WEIGHTS.normal + WEIGHTS.low_priority;
    for (const q of queues) {
      const expected = WEIGHTS[q] / sum;
      // Within 0.1 of its weight's share (0.6, 0.3, 0.1); equal weights would give each a third.
      expect(Math.abs(share(q) - expected), `${q}: share ${share(q).toFixed(3)} of the tokens received in the window, expected ${expected.toFixed(2)}`).toBeLessThan(0.1);
    }
    // Low is never starved by the overload: a real share, not a trickle.
    expect(share('low_priority')).toBeGreaterThan(0.05);
    // Every token of the three jobs arrived.
    for (const q of queues) expect(countOf(jobs[q]), `${q} tokens received`).toBeGreaterThanOrEqual(SIZES[q]);
  }, 240_000);
});
