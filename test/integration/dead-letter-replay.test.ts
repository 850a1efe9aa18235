// POST /admin/dead-letters/replay through one node (role all) on the real PostgreSQL and RabbitMQ, sending through
// the FCM pool to the fake FCM, which is the witness: batches really dead-lettered by dispatch (their tokens answered
// UNAVAILABLE past the last attempt) are replayed by job, by message id and all at once; each of their tokens is then
// delivered exactly once, the tokens answered before are not sent again, a replay of the same selection or of a copy
// of a batch already recorded sends nothing, and what was not selected stays in the dead-letter queue (the broker's
// own count). Each replay is handed to the operations audit seam (NodeOptions.onOperation).
//
// Shown failing against a deliberately broken replay (applied locally, run, reverted): in
// src/adapters/broker/dead-letter-replay.ts `selected` returning true for every selection → fails on the job's replay
// "expected { replayed: 3, … } to deeply equal { replayed: 1, … }".
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminOperation } from '../../src/contracts/admin-operation.js';
import { consumerName, type ConsumerMessage } from '../../src/dispatch/consumer-messages.js';
import { postJob, seedCustomers, waitJobsSettled } from '../support/dispatch.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

let n: DispatchNode;
const operations: AdminOperation[] = [];

beforeAll(async () => {
  n = await startDispatchNode({
    env: { BROKER_RETRY_TIERS_MS: '20,50,100', BROKER_DELIVERY_LIMIT: '2', FCM_MAX_SEND_ATTEMPTS: '2' },
    nodeOptions: { onOperation: async (op) => void operations.push(op) },
  });
}, 60_000);
afterAll(async () => {
  await n?.stop();
});

const adminId = (): string => (JSON.parse(Buffer.from(n.admin.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }).sub;

async function replay(body: unknown, token = n.admin): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${n.node.apiUrl}/admin/dead-letters/replay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The dead-letter queue's depth by the broker's own count, and the raw dead letters (browsed, none consumed). */
async function deadLetters(): Promise<{ count: number; messages: amqp.GetMessage[] }> {
  const conn = await amqp.connect(n.vhost.url);
  try {
    const ch = await conn.createChannel();
    const count = (await ch.checkQueue('dead_letters')).messageCount;
    const messages: amqp.GetMessage[] = [];
    for (let m = await ch.get('dead_letters', { noAck: false }); m !== false; m = await ch.get('dead_letters', { noAck: false })) messages.push(m);
    return { count, messages };
  } finally {
    await conn.close(); // unacknowledged: every one goes back
  }
}

const jobOf = (m: amqp.GetMessage): string => (JSON.parse(m.content.toString()) as { jobId: string }).jobId;
const tokensOf = (m: amqp.GetMessage): string[] => (JSON.parse(m.content.toString()) as { tokens: Array<{ token: string }> }).tokens.map((t) => t.token);
const acks = async (queue: 'high_priority'): Promise<number> => (await n.node.runtime.ask<ConsumerMessage, 'stats'>(consumerName(queue), 'stats', {}, 5_000)).acks;

describe('POST /admin/dead-letters/replay', () => {
  it('sends really dead-lettered batches back by job, by message id and all, each token delivered once, nothing sent twice', async () => {
    const { world, sql } = n;
    // Three jobs (bill_due: high_priority), each with two tokens FCM keeps refusing and one it takes.
    const seeds: Array<{ users: string[]; tokens: string[] }> = [];
    for (const p of ['a', 'b', 'c']) seeds.push(await seedCustomers(sql, 3, { devices: 1, agency: 'DLR', prefix: `dlr-${p}` }));
    const stuck = new Set(seeds.flatMap((s) => s.tokens.slice(0, 2)));
    const healthy = seeds.map((s) => s.tokens[2]!);
    world.fake.setOutcomes(({ token }) => (token !== undefined && stuck.has(token) ? { error: 'UNAVAILABLE', retryAfterSeconds: 0 } : 'ok'));
    const jobs: string[] = [];
    for (const s of seeds) jobs.push(await postJob(n.node.apiUrl!, n.admin, { target: { kind: 'users', userIds: s.users }, type: 'bill_due', title: 'Facture', body: 'x' }));
    await waitJobsSettled(sql, jobs);
    const dead = await waitFor('the three exhausted batches in dead_letters', async () => {
      const d = await deadLetters();
      return d.count === 3 && d.messages.length === 3 ? d.messages : undefined;
    }, 20_000);
    const byJob = new Map(dead.map((m) => [jobOf(m), m]));
    expect([...byJob.keys()].sort()).toEqual([...jobs].sort());
    for (const [i, job] of jobs.entries()) expect(tokensOf(byJob.get(job)!).sort()).toEqual(seeds[i]!.tokens.slice(0, 2).sort());
    // Dead-lettered for real: every stuck token tried and never delivered; the healthy ones delivered once.
    for (const t of stuck) expect(world.fake.deliveredTo(t), `token ${t} before the replay`).toBe(0);
    for (const t of healthy) expect(world.fake.deliveredTo(t)).toBe(1);
    const attemptsBefore = new Map([...stuck, ...healthy].map((t) => [t, world.fake.attemptsFor(t)]));
    world.fake.setOutcomes(undefined); // FCM is well again

    // 1. One job's batch: the other two stay in the dead-letter queue.
    const [jobA, jobB, jobC] = jobs as [string, string, string];
    const a = await replay({ jobId: jobA, reason: 'FCM back after the outage' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ replayed: 1, messageIds: [byJob.get(jobA)!.properties.messageId], skipped: 0, notFound: [] });
    const left = await deadLetters();
    expect(left.count).toBe(2);
    expect(left.messages.map(jobOf).sort()).toEqual([jobB, jobC].sort());

    // 2. By message id (with one that is not there), 3. all the rest.
    const b = await replay({ messageIds: [byJob.get(jobB)!.properties.messageId, 'no-such-message'], reason: 'retry B' });
    expect(b.body).toEqual({ replayed: 1, messageIds: [byJob.get(jobB)!.properties.messageId], skipped: 0, notFound: ['no-such-message'] });
    expect((await deadLetters()).count).toBe(1);
    const c = await replay({ all: true, reason: 'the rest' });
    expect(c.body).toMatchObject({ replayed: 1, messageIds: [byJob.get(jobC)!.properties.messageId] });

    // The witness: each token of the replayed batches delivered exactly once, with one more request each (no
    // duplicate), and the tokens answered before not sent again.
    await world.fake.waitFor(healthy.length + stuck.size, { timeoutMs: 20_000 });
    const replayedIds = [jobA, jobB, jobC].map((j) => byJob.get(j)!.properties.messageId as string);
    await waitFor('the replayed batches recorded', async () => {
      const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM sent_batches WHERE batch_id = ANY($1::text[])`, [replayedIds]);
      return rows[0]!.n === 3;
    });
    for (const t of stuck) {
      expect(world.fake.deliveredTo(t), `token ${t} delivered after the replay`).toBe(1);
      expect(world.fake.attemptsFor(t), `requests for token ${t}`).toBe(attemptsBefore.get(t)! + 1);
    }
    for (const t of healthy) expect(world.fake.attemptsFor(t), `healthy token ${t} not sent again`).toBe(attemptsBefore.get(t));

    // A second replay of the same selection finds nothing; a copy of a batch already recorded (a dead letter
    // published twice) is replayed, handled (acked by the consumer) and sends nothing.
    expect((await replay({ jobId: jobA, reason: 'again' })).body).toMatchObject({ replayed: 0, messageIds: [] });
    const requestsBefore = world.fake.stats();
    const conn = await amqp.connect(n.vhost.url);
    try {
      const ch = await conn.createConfirmChannel();
      const copy = byJob.get(jobA)!;
      ch.sendToQueue('dead_letters', copy.content, { persistent: true, messageId: copy.properties.messageId, headers: copy.properties.headers });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const acksBefore = await acks('high_priority');
    expect((await replay({ all: true, reason: 'the copy' })).body).toMatchObject({ replayed: 1 });
    await waitFor('the copy handled', async () => (await acks('high_priority')) === acksBefore + 1);
    expect(world.fake.stats()).toEqual(requestsBefore);
    for (const t of stuck) expect(world.fake.deliveredTo(t)).toBe(1);
    expect((await deadLetters()).count).toBe(0);

    // Each replay went to the operations audit: who, why, what.
    const replays = operations.filter((o) => o.action === 'dead-letters.replay');
    expect(replays.map((o) => [o.target, o.actor, o.reason, (o.detail as { replayed: number }).replayed])).toEqual([
      [`job:${jobA}`, adminId(), 'FCM back after the outage', 1],
      ['messages', adminId(), 'retry B', 1],
      ['all', adminId(), 'the rest', 1],
      [`job:${jobA}`, adminId(), 'again', 0],
      ['all', adminId(), 'the copy', 1],
    ]);
    expect(replays[0]!.detail).toMatchObject({ selection: { jobId: jobA }, messageIds: [byJob.get(jobA)!.properties.messageId] });
  }, 120_000);

  it('answers 403 to customers and agents, and 400 naming the fields to a bad body', async () => {
    for (const role of ['customer', 'agent'] as const) expect((await replay({ all: true, reason: 'x' }, await mintToken({ role }))).status).toBe(403);
    const bad = async (body: unknown): Promise<string[]> => {
      const r = await replay(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
      return (r.body.fields as Array<{ path: string }>).map((f) => f.path);
    };
    expect(await bad({ all: true })).toEqual(['body.reason']);
    expect(await bad({ reason: 'which?' })).toEqual(['body.all']);
    expect(await bad({ all: true, jobId: '00000000-0000-4000-8000-000000000001', reason: 'both' })).toEqual(['body.all']);
    expect(await bad({ jobId: 'not-a-uuid', reason: 'x' })).toEqual(['body.jobId']);
    expect(await bad({ messageIds: [], reason: 'x' })).toEqual(['body.messageIds']);
    expect(await bad({ all: false, reason: 'x' })).toEqual(['body.all']);
    expect(await bad({ all: true, reason: 'x', limit: 5 })).toEqual(['body']);
  });
});
