// Dispatch end to end through one node (role all) on the real PostgreSQL, RabbitMQ and Redis, sending through the
// FCM pool (piscina threads running firebase-admin) over the real proxy path to the fake FCM, which does the
// counting: every accepted job reaches every target token exactly once (requests *received* at the fake, with the
// job's id in their data) and every targeted user's inbox exactly once (read through the API with that user's
// token), dead tokens are removed, 503s are retried then delivered, a 429 pauses all sending (another job's too)
// for its Retry-After, a poison message reaches the dead-letter queue, and the worker's readiness names its four
// consumers.
//
// Shown failing against a deliberately broken product (each applied locally, the test run, then reverted):
// - "exactly once in the inbox": in src/dispatch/fan-out.ts, write a broadcast's users an inbox entry as well —
//   replace `const entries = who.broadcast ? 0 : await inbox.addEntries(client as PoolClient, jobId, ids);` with
//   `const entries = await inbox.addEntries(client as PoolClient, jobId, ids);` → the agency test fails on
//   "user … sees the agency broadcast in GET /v1/me/notifications: expected 2 to be 1".
// - "each token received exactly once": in src/dispatch/fan-out.ts publishNext, let consecutive batches overlap by
//   one token — `cp.pending_tokens.slice(cp.pending_offset, cp.pending_offset + batchSize)` becomes
//   `cp.pending_tokens.slice(Math.max(0, cp.pending_offset - 1), cp.pending_offset + batchSize)` → fails on
//   "requests received for token …: expected 2 to be 1".
// - "a 429 pauses ALL sending": make the rate limit's pause a no-op — in src/adapters/cache/shared-rate-limit.ts
//   `pauseUntil(atMs) { return; … }` → fails on "requests of either job received inside the pause window: expected
//   [ 'other job +1014 ms', …(1499) ] to deeply equal []" (the other job kept sending through the window).
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { jobRow, postJob, seedCustomers, waitJobsSettled, type FcmWorld } from '../support/dispatch.js';
import { mintToken } from '../support/tokens.js';
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
  // FCM_RATE_PER_MINUTE 60,000 (1,000 sends/s, burst 1,000): the 429 test's other job must still be sending when
  // the pause starts and after it ends, which a bounded rate makes sure of on any machine.
  setup = await startDispatchNode({
    env: { BROKER_RETRY_TIERS_MS: '20,50,100', BROKER_DELIVERY_LIMIT: '2', FCM_MAX_SEND_ATTEMPTS: '2', FCM_RATE_PER_MINUTE: '60000' },
  });
  ({ world, node, sql, admin, vhost } = setup);
}, 60_000);
afterAll(async () => {
  await setup?.stop();
});

/** The job ids in a user's inbox, read through the API with that user's own token (every page). */
async function inboxJobIds(userId: string): Promise<string[]> {
  const token = await mintToken({ role: 'customer', sub: userId });
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const url = new URL(`${node.apiUrl}/v1/me/notifications`);
    url.searchParams.set('limit', '100');
    if (cursor) url.searchParams.set('cursor', cursor);
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET /v1/me/notifications for ${userId} answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as { items: Array<{ jobId: string }>; nextCursor: string | null };
    ids.push(...page.items.map((i) => i.jobId));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

/** Runs `fn` over `items`, `width` at a time. */
async function eachLimited<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe('dispatch end to end', () => {
  it('each target token is received exactly once with its job id, and each targeted user sees the job once in their inbox through the API (users without a device included)', async () => {
    const many = await seedCustomers(sql, 700, { devices: 2, agency: 'E2E-A', prefix: 'e2e-a' });
    const bare = await seedCustomers(sql, 5, { devices: 0, agency: 'E2E-A' });
    const few = await seedCustomers(sql, 3, { devices: 1, agency: 'E2E-B', prefix: 'e2e-b' });
    const agencyJob = await postJob(node.apiUrl!, admin, { target: { kind: 'agency', agency: 'E2E-A' }, type: 'planned_works', title: 'Travaux', body: 'Coupure demain.' });
    const usersJob = await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: [...few.users, bare.users[0]] }, type: 'outage', title: 'Panne', body: 'Panne en cours.' });
    await waitJobsSettled(sql, [agencyJob, usersJob]);

    // Each token was received exactly once at the fake (its own record, before any answer), carrying its job's id.
    expect(many.tokens.length).toBe(1_400);
    const jobOf = new Map<string, Set<string | undefined>>();
    for (const r of world.fake.receipts()) jobOf.set(r.token, (jobOf.get(r.token) ?? new Set()).add(r.jobId));
    for (const [tokens, job] of [[many.tokens, agencyJob], [few.tokens, usersJob]] as const) {
      for (const t of tokens) {
        expect(world.fake.requestsReceived(t), `requests received for token ${t}`).toBe(1);
        expect(world.fake.deliveredTo(t), `answered 200 for token ${t}`).toBe(1);
        expect([...(jobOf.get(t) ?? [])], `job id in the data of token ${t}`).toEqual([job]);
      }
    }
    // Each user targeted sees the job once in their inbox, read through the API as that user: the agency
    // broadcast for every user of E2E-A (with or without a device), the users job for each of its targets.
    const seen = new Map<string, string[]>();
    await eachLimited([...many.users, ...bare.users, ...few.users], 8, async (user) => void seen.set(user, await inboxJobIds(user)));
    for (const user of [...many.users, ...bare.users]) {
      expect(seen.get(user)!.filter((j) => j === agencyJob).length, `user ${user} sees the agency broadcast in GET /v1/me/notifications`).toBe(1);
    }
    for (const user of [...few.users, bare.users[0]!]) {
      expect(seen.get(user)!.filter((j) => j === usersJob).length, `user ${user} sees the users job in GET /v1/me/notifications`).toBe(1);
    }
    for (const user of few.users) expect(seen.get(user), `user ${user} (agency E2E-B) is not in E2E-A's broadcast`).not.toContain(agencyJob);

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
  }, 90_000);

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

  it('a 429 pauses ALL sending for its Retry-After — another job\'s traffic too — then delivers what got it', async () => {
    const RETRY_AFTER_S = 3;
    // The other job: a low-priority agency broadcast of 4,000 tokens, sent in chunks of 100 at 1,000/s at most,
    // so it is sending before the 429 and still has tokens to send after the pause.
    const other = await seedCustomers(sql, 2_000, { devices: 2, agency: 'E2E-P', prefix: 'e2e-p' });
    const { users, tokens } = await seedCustomers(sql, 20, { devices: 1, agency: 'E2E-Q', prefix: 'e2e-q' });
    world.fake.setOutcomes(({ token, attempt }) =>
      token?.startsWith('e2e-q') && attempt === 1 ? { error: 'QUOTA_EXCEEDED', retryAfterSeconds: RETRY_AFTER_S } : 'ok',
    );
    try {
      const otherJob = await postJob(node.apiUrl!, admin, { target: { kind: 'agency', agency: 'E2E-P' }, type: 'planned_works', title: 'Travaux', body: 'x' });
      await waitFor('the other job sending', () => world.fake.receipts().filter((r) => r.jobId === otherJob).length >= 200, 30_000);
      const id = await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: users }, type: 'outage', title: 'Panne', body: 'x' });
      await waitJobsSettled(sql, [id, otherJob], 60_000);

      // Measured from the fake's own records. The pause starts once the product has the 429s (after the fake wrote
      // the last of them) and lasts their Retry-After. Sends handed out before it may still arrive early in the
      // window (at most the in-flight chunks), so the window asserted empty starts a third of the way in.
      const quota = world.fake.received.filter((m) => m.outcome === 'QUOTA_EXCEEDED');
      expect(quota.map((m) => m.token).sort()).toEqual([...tokens].sort());
      const lastQuota = Math.max(...quota.map((m) => m.at));
      const pauseMs = RETRY_AFTER_S * 1_000;
      const [windowStart, windowEnd] = [lastQuota + pauseMs / 3, lastQuota + pauseMs * 0.95];
      const both = world.fake.receipts().filter((r) => r.jobId === id || r.jobId === otherJob);
      const inWindow = both.filter((r) => r.at > windowStart && r.at < windowEnd);
      const after = both.filter((r) => r.at > lastQuota);
      const lastEarly = Math.max(lastQuota, ...after.filter((r) => r.at <= windowStart).map((r) => r.at));
      const resumed = Math.min(...after.filter((r) => r.at > windowStart).map((r) => r.at));
      console.log(
        `429 pause: ${after.filter((r) => r.at <= windowStart).length} sends arrived in flight after the last 429; ` +
          `nothing received for ${Math.round(resumed - lastEarly)} ms, resumed ${Math.round(resumed - lastQuota)} ms after the last 429 (Retry-After ${pauseMs} ms)`,
      );
      expect(
        inWindow.map((r) => `${r.jobId === id ? '429 job' : 'other job'} +${Math.round(r.at - lastQuota)} ms`),
        'requests of either job received inside the pause window',
      ).toEqual([]);
      // The window had traffic to stop: the other job sent before the 429 and again after the pause.
      expect(both.some((r) => r.jobId === otherJob && r.at < lastQuota), 'other job sending before the 429').toBe(true);
      expect(both.some((r) => r.jobId === otherJob && r.at >= windowEnd), 'other job sending after the pause').toBe(true);
      // The 429'd tokens went again only after the Retry-After (the retry tiers alone would resend in 20-100 ms).
      const retried = both.filter((r) => r.jobId === id && r.at > lastQuota);
      expect(retried.map((r) => r.token).sort()).toEqual([...tokens].sort());
      expect(Math.min(...retried.map((r) => r.at))).toBeGreaterThanOrEqual(windowEnd);

      for (const t of tokens) {
        expect(world.fake.requestsReceived(t), `requests received for token ${t} (a 429, then a 200)`).toBe(2);
        expect(world.fake.deliveredTo(t)).toBe(1);
      }
      for (const t of other.tokens) expect(world.fake.requestsReceived(t), `requests received for token ${t}`).toBe(1);
      expect(await jobRow(sql, id)).toMatchObject({ state: 'done', sent_count: 20, retried_count: 20 });
      expect(await jobRow(sql, otherJob)).toMatchObject({ state: 'done', sent_count: 4_000, retried_count: 0 });
    } finally {
      world.fake.setOutcomes(undefined);
    }
  }, 90_000);

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
