// Dispatch end to end through one node (role all) on the real PostgreSQL, RabbitMQ and Redis, sending through the
// FCM pool (piscina threads running firebase-admin) over the real proxy path to the fake FCM, which does the
// counting: every accepted job reaches every target token and every targeted inbox, dead tokens are removed,
// 503s are retried then delivered, a poison message reaches the dead-letter queue, and the worker's readiness
// names its four consumers.
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { jobRow, postJob, seedCustomers, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import type { TestVhost } from '../support/rabbitmq.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import { waitFor } from '../support/wait.js';

let setup: DispatchNode;
let world: FcmWorld;
let node: RunningNode;
let sql: pg.Pool;
let admin: string;
let vhost: TestVhost;

beforeAll(async () => {
  setup = await startDispatchNode({ env: { BROKER_RETRY_TIERS_MS: '20,50,100', BROKER_DELIVERY_LIMIT: '2', FCM_MAX_SEND_ATTEMPTS: '2' } });
  ({ world, node, sql, admin, vhost } = setup);
}, 60_000);
afterAll(async () => {
  await setup?.stop();
});

describe('dispatch end to end', () => {
  it('delivers every accepted job to every target token and every targeted inbox, users without a device included', async () => {
    const many = await seedCustomers(sql, 700, { devices: 2, agency: 'E2E-A', prefix: 'e2e-a' });
    const bare = await seedCustomers(sql, 5, { devices: 0, agency: 'E2E-A' });
    const few = await seedCustomers(sql, 3, { devices: 1, agency: 'E2E-B', prefix: 'e2e-b' });
    const agencyJob = await postJob(node.apiUrl!, admin, { target: { kind: 'agency', agency: 'E2E-A' }, type: 'planned_works', title: 'Travaux', body: 'Coupure demain.' });
    const usersJob = await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: [...few.users, bare.users[0]] }, type: 'outage', title: 'Panne', body: 'Panne en cours.' });
    await waitJobsSettled(sql, [agencyJob, usersJob]);

    for (const t of [...many.tokens, ...few.tokens]) expect(world.fake.deliveredTo(t), t).toBeGreaterThanOrEqual(1);
    expect(many.tokens.length).toBe(1_400);
    const a = await jobRow(sql, agencyJob);
    expect(a).toMatchObject({ state: 'done', sent_count: 1_400, failed_count: 0, tokens_removed_count: 0 });
    const u = await jobRow(sql, usersJob);
    expect(u).toMatchObject({ state: 'done', sent_count: 3, inbox_count: 4 });

    // Inboxes: the user without a device has the targeted entry and the agency broadcast.
    const inbox = async (user: string) =>
      (await sql.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM inbox_entries WHERE user_id = $1)::int + (SELECT count(*) FROM broadcasts b WHERE b.job_id = $2)::int AS n`,
        [user, agencyJob],
      )).rows[0]!.n;
    expect(await inbox(bare.users[0]!)).toBe(2);
    // Every user targeted by the users job has its entry (read from the inbox table, not the job's counter).
    const { rows: entries } = await sql.query<{ user_id: string }>(`SELECT user_id FROM inbox_entries WHERE job_id = $1`, [usersJob]);
    expect(new Set(entries.map((e) => e.user_id))).toEqual(new Set([...few.users, bare.users[0]]));
    // Urgent went out with Android priority HIGH and APNs priority 10.
    const outage = world.fake.received.find((m) => m.token === few.tokens[0]);
    expect(outage).toMatchObject({ androidPriority: 'high', apnsPriority: '10' });
  });

  it('removes UNREGISTERED tokens, retries 503s until delivered, and counts both', async () => {
    const { users, tokens } = await seedCustomers(sql, 6, { devices: 1, agency: 'E2E-C', prefix: 'e2e-c' });
    const [dead, flaky] = [tokens[0]!, tokens[1]!];
    world.fake.setOutcomes(({ token, attempt }) => (token === dead ? 'UNREGISTERED' : token === flaky && attempt <= 2 ? { error: 'UNAVAILABLE', retryAfterSeconds: 0 } : 'ok'));
    try {
      const id = await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'outage', title: 'Panne', body: 'x' });
      await waitJobsSettled(sql, [id]);
      expect(world.fake.attemptsFor(flaky)).toBe(3);
      expect(world.fake.deliveredTo(flaky)).toBe(1);
      expect(world.fake.deliveredTo(dead)).toBe(0);
      const { rows } = await sql.query(`SELECT 1 FROM device_sessions WHERE push_token = $1`, [dead]);
      expect(rows).toHaveLength(0);
      expect(await jobRow(sql, id)).toMatchObject({ state: 'done', sent_count: 5, tokens_removed_count: 1, retried_count: 2 });
    } finally {
      world.fake.setOutcomes(undefined);
    }
  });

  it('pauses all sending for the Retry-After of a 429, then delivers what got it', async () => {
    const { users, tokens } = await seedCustomers(sql, 20, { devices: 1, agency: 'E2E-Q', prefix: 'e2e-q' });
    world.fake.setOutcomes(({ token, attempt }) => (token?.startsWith('e2e-q') && attempt === 1 ? { error: 'QUOTA_EXCEEDED', retryAfterSeconds: 1 } : 'ok'));
    try {
      const id = await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'outage', title: 'Panne', body: 'x' });
      await waitJobsSettled(sql, [id]);
      for (const t of tokens) expect(world.fake.deliveredTo(t)).toBe(1);
      const mine = world.fake.received.filter((m) => m.token?.startsWith('e2e-q'));
      const lastQuota = Math.max(...mine.filter((m) => m.outcome === 'QUOTA_EXCEEDED').map((m) => m.at));
      const firstAfter = Math.min(...mine.filter((m) => m.outcome === 'ok').map((m) => m.at));
      // Nothing went to FCM before the Retry-After (1 s) ran out; the retry tiers alone would resend in 20-100 ms.
      expect(firstAfter - lastQuota).toBeGreaterThanOrEqual(950);
      expect(await jobRow(sql, id)).toMatchObject({ state: 'done', sent_count: 20, retried_count: 20 });
    } finally {
      world.fake.setOutcomes(undefined);
    }
  });

  it('dead-letters a poison message after the delivery limit', async () => {
    const conn = await amqp.connect(vhost.url);
    try {
      const ch = await conn.createConfirmChannel();
      // A push batch naming a job whose row the handler cannot read as a job (a malformed uuid): every attempt fails.
      const body = Buffer.from(JSON.stringify({ kind: 'push-batch', jobId: 'not-a-uuid', batchNo: 0, tokens: [{ sessionId: 's', token: 't' }] }));
      ch.publish('', 'normal', body, { messageId: 'poison-1', persistent: true });
      await ch.waitForConfirms();
      const dead = await waitFor('poison in dead_letters', async () => {
        const m = await ch.get('dead_letters', { noAck: true });
        return m === false ? undefined : m;
      }, 20_000);
      expect(dead.properties.messageId).toBe('poison-1');
      // Dead-lettered by RabbitMQ for the delivery limit (BROKER_DELIVERY_LIMIT=2), not rejected at once.
      const death = (dead.properties.headers?.['x-death'] as Array<{ reason: string; queue: string }> | undefined)?.[0];
      expect(death).toMatchObject({ reason: 'delivery_limit', queue: 'normal' });
      expect(world.fake.deliveredTo('t')).toBe(0);
    } finally {
      await conn.close();
    }
  });

  it('sends a token that keeps failing transiently to the dead-letter queue after the last attempt, counted as failed', async () => {
    const { users, tokens } = await seedCustomers(sql, 3, { devices: 1, agency: 'E2E-X', prefix: 'e2e-x' });
    const stuck = tokens[0]!;
    world.fake.setOutcomes(({ token }) => (token === stuck ? { error: 'UNAVAILABLE', retryAfterSeconds: 0 } : 'ok'));
    const conn = await amqp.connect(vhost.url);
    try {
      const id = await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'bill_due', title: 'Facture', body: 'x' });
      await waitJobsSettled(sql, [id]);
      // The first send and FCM_MAX_SEND_ATTEMPTS retries.
      expect(world.fake.attemptsFor(stuck)).toBe(3);
      expect(await jobRow(sql, id)).toMatchObject({ state: 'done', sent_count: 2, failed_count: 1 });
      const ch = await conn.createChannel();
      const dead = await waitFor('exhausted batch in dead_letters', async () => {
        const m = await ch.get('dead_letters', { noAck: true });
        if (m === false) return undefined;
        return JSON.parse(m.content.toString()).jobId === id ? m : undefined;
      }, 10_000);
      expect(JSON.parse(dead.content.toString()).tokens.map((t: { token: string }) => t.token)).toEqual([stuck]);
      expect(dead.properties.headers).toMatchObject({ 'x-dead-reason': 'max-attempts: UNAVAILABLE', 'x-attempts': 3, 'x-origin-queue': 'high_priority' });
    } finally {
      world.fake.setOutcomes(undefined);
      await conn.close();
    }
  });

  it('reports each of the four consumers in its readiness', async () => {
    const res = await fetch(`${node.opsUrl}/health/ready`);
    const body = (await res.json()) as { parts: Array<{ name: string; state: string }> };
    const names = body.parts.map((p) => p.name);
    for (const q of ['urgent', 'high_priority', 'normal', 'low_priority']) expect(names).toContain(`consumer.${q}`);
    expect(names).toContain('fcm-pool');
  });

  it('reports dispatch on /metrics: per-token outcomes, consumers, scheduler, rate limit', async () => {
    const text = await (await fetch(`${node.opsUrl}/metrics`)).text();
    const value = (line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);
    expect(value(/^samaconso_fcm_outcomes\{outcome="sent"\} (\d+)/m)).toBeGreaterThan(1_400);
    expect(value(/^samaconso_fcm_outcomes\{outcome="remove-token:UNREGISTERED"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^samaconso_fcm_rate_pauses (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^samaconso_fcm_rate_limit_local (\d+)/m)).toBe(0);
    for (const q of ['urgent', 'high_priority', 'normal', 'low_priority']) {
      expect(text).toMatch(new RegExp(`^samaconso_consumer_deliveries\\{queue="${q}",outcome="ack"\\} \\d+`, 'm'));
      expect(text).toMatch(new RegExp(`^samaconso_push_queued_tokens\\{queue="${q}"\\} 0`, 'm'));
    }
  });
});
