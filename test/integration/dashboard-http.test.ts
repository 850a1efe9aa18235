// GET /v1/dashboard through a whole node (role api) on the real PostgreSQL: its numbers against seeded rows for an
// agent (their agency), an admin (all agencies, or one), the 403s (customers, an agent naming another agency), the
// brief cache; then, over thousands of seeded rows, EXPLAIN of every query of both scopes uses its intended index.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_QUERIES, queryFor, queryTimes } from '../../src/dashboard/index.js';
import type { RunningNode } from '../../src/node.js';
import { insertCustomer, insertLink, insertStaff, type TestUser } from '../support/meter-links.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
let customers: TestUser[];
let agentA: TestUser;
let agentB: TestUser;
let admin: TestUser;

const A = 'DAKAR-PLATEAU';
const B = 'THIES';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.now();
const ago = (ms: number) => new Date(T0 - ms);
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

async function dashboard(who: TestUser, query = ''): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.apiUrl}/v1/dashboard${query}`, { headers: { authorization: `Bearer ${who.token}` } });
  return { status: res.status, body: await res.json() };
}

async function request(agency: string, status: string, filed: Date): Promise<void> {
  await sql.query(`INSERT INTO requests (id, author_id, type, agency_code, comment, status, created_at, updated_at) VALUES ($1, $2, 'complaint', $3, 'x', $4, $5, $5)`, [
    randomUUID(),
    customers[0]!.id,
    agency,
    status,
    filed,
  ]);
}

async function job(by: TestUser, agency: string | null, type: string, state: string, at: Date, counts: { sent?: number; failed?: number; inbox?: number } = {}): Promise<void> {
  await sql.query(
    `INSERT INTO notification_jobs (id, created_by, caller_role, caller_agency, target, type, queue, title, body, request_hash, state, created_at, updated_at, sent_count, failed_count, inbox_count)
     VALUES ($1, $2, $3, $4, '{"kind":"everyone"}', $5, 'normal', 't', 'b', '\\x00', $6, $7, $7, $8, $9, $10)`,
    [randomUUID(), by.id, agency ? 'agent' : 'admin', agency, type, state, at, counts.sent ?? 0, counts.failed ?? 0, counts.inbox ?? 0],
  );
}

const link = (user: TestUser, meter: string, agency: string, state: 'pending' | 'active' | 'ended', createdAgo = 0) =>
  insertLink(sql, { userId: user.id, kind: 'prepaid', meter, police: `P${meter}`, agency, owner: false, state }).then((id) =>
    sql.query(`UPDATE meter_links SET created_at = $2 WHERE id = $1`, [id, ago(createdAgo)]),
  );

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  await sql.query(`INSERT INTO agencies (code, name) VALUES ($1, $1), ($2, $2)`, [A, B]);
  node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: undefined, ROLE: 'api' });
  await waitFor('ready', () => node.runtime.readiness('api').ready);
  customers = [];
  for (let i = 0; i < 4; i++) customers.push(await insertCustomer(sql, `+22177995000${i}`));
  agentA = await insertStaff(sql, 'agent', A);
  agentB = await insertStaff(sql, 'agent', B);
  admin = await insertStaff(sql, 'admin', null);
  const [c0, c1, c2, c3] = customers as [TestUser, TestUser, TestUser, TestUser];
  // Links: A has 2 pending (the oldest 2 days old) and active links of c0 (two meters) and c1; B 1 pending and
  // active links of c0 and c2; an ended link counts nowhere.
  await link(c2, '10001', A, 'pending', 2 * DAY);
  await link(c3, '10002', A, 'pending', HOUR);
  await link(c3, '10003', B, 'pending', 5 * HOUR);
  await link(c0, '10004', A, 'active');
  await link(c0, '10005', A, 'active');
  await link(c1, '10006', A, 'active');
  await link(c0, '10007', B, 'active');
  await link(c2, '10008', B, 'active');
  await link(c3, '10009', A, 'ended');
  // Requests of A by status and age; the resolved one of 60 days is outside the 30 days. B has one.
  await request(A, 'open', ago(2 * HOUR));
  await request(A, 'open', ago(3 * DAY));
  await request(A, 'open', ago(40 * DAY));
  await request(A, 'in_progress', ago(10 * DAY));
  await request(A, 'resolved', ago(5 * DAY));
  await request(A, 'resolved', ago(60 * DAY));
  await request(A, 'rejected', ago(HOUR));
  await request(B, 'open', ago(HOUR));
  // Jobs: A's agent sent two outage jobs an hour ago (one done, one failed) and planned works yesterday, still
  // sending; one 40 days ago is outside the window; an admin's campaign an hour ago counts for all agencies only.
  await job(agentA, A, 'outage', 'done', ago(HOUR), { sent: 10, failed: 1, inbox: 11 });
  await job(agentA, A, 'outage', 'failed', ago(HOUR));
  await job(agentA, A, 'planned_works', 'sending', ago(DAY), { sent: 5, inbox: 7 });
  await job(agentA, A, 'outage', 'done', ago(40 * DAY), { sent: 99 });
  await job(admin, null, 'campaign', 'done', ago(HOUR), { sent: 100, inbox: 100 });
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await db?.drop();
});

const statuses = (body: any) => Object.fromEntries(body.requests.map((r: any) => [r.status, [r.total, r.underOneDay, r.oneToSevenDays, r.sevenToThirtyDays, r.overThirtyDays]]));

describe('GET /v1/dashboard', () => {
  it("counts an agent's agency: pending links and the oldest's age, requests by status and age, 30 days of jobs, active customers", async () => {
    const { status, body } = await dashboard(agentA);
    expect(status).toBe(200);
    expect(body.agency).toBe(A);
    expect(body.meterLinks.pending).toBe(2);
    expect(body.meterLinks.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(2 * 86_400);
    expect(body.meterLinks.oldestPendingAgeSeconds).toBeLessThan(2 * 86_400 + 3_600);
    expect(statuses(body)).toEqual({
      open: [3, 1, 1, 0, 1],
      in_progress: [1, 0, 0, 1, 0],
      resolved: [1, 0, 1, 0, 0],
      rejected: [1, 1, 0, 0, 0],
    });
    // The window is the node's: from its own reading time (generatedAt), not the test's clock at seeding, which may
    // have been on the other side of a UTC midnight.
    const readAt = Date.parse(body.generatedAt);
    expect(body.notifications.since).toBe(dayOf(new Date(Math.floor(readAt / DAY) * DAY - 29 * DAY)));
    // The days the jobs were seeded on (their own times, whatever day the node reads on).
    const hourAgo = dayOf(ago(HOUR));
    const dayAgo = dayOf(ago(DAY));
    const byDayType = (d: string, t: string) => body.notifications.days.filter((x: any) => x.day === d && x.type === t);
    expect(body.notifications.days.map((d: any) => d.type).sort()).toEqual(['outage', 'planned_works']);
    expect(byDayType(hourAgo, 'outage')).toEqual([{ day: hourAgo, type: 'outage', jobs: 2, done: 1, failed: 1, inFlight: 0, pushesSent: 10, pushesFailed: 1, inboxEntries: 11 }]);
    expect(byDayType(dayAgo, 'planned_works')).toEqual([{ day: dayAgo, type: 'planned_works', jobs: 1, done: 0, failed: 0, inFlight: 1, pushesSent: 5, pushesFailed: 0, inboxEntries: 7 }]);
    expect(body.customers.active).toBe(2);
  });

  it("counts all agencies for an admin, or the one named; an agent may name their own agency only; customers get 403", async () => {
    const all = (await dashboard(admin)).body;
    expect(all.agency).toBeNull();
    expect(all.meterLinks.pending).toBe(3);
    expect(statuses(all).open).toEqual([4, 2, 1, 0, 1]);
    expect(all.notifications.days.find((d: any) => d.type === 'campaign')).toMatchObject({ jobs: 1, done: 1, pushesSent: 100 });
    expect(all.customers.active).toBe(3);
    const b = (await dashboard(admin, `?agency=${B}`)).body;
    expect(b).toMatchObject({ agency: B, meterLinks: { pending: 1 }, customers: { active: 2 }, notifications: { days: [] } });
    expect(statuses(b).open).toEqual([1, 1, 0, 0, 0]);
    expect((await dashboard(agentB, `?agency=${B}`)).body.agency).toBe(B);
    const other = await dashboard(agentB, `?agency=${A}`);
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('FORBIDDEN');
    const customer = await dashboard(customers[0]!);
    expect(customer.status).toBe(403);
    expect(customer.body.code).toBe('FORBIDDEN');
  });

  it('answers an admin naming an agency not in the agencies table 404 AGENCY_NOT_FOUND; a withdrawn one is counted', async () => {
    const unknown = await dashboard(admin, '?agency=NOPE');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('AGENCY_NOT_FOUND');
    // A withdrawn agency keeps its history, so its dashboard still answers.
    await sql.query(`INSERT INTO agencies (code, name, active) VALUES ('GONE', 'Gone', false)`);
    const withdrawn = await dashboard(admin, '?agency=GONE');
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ agency: 'GONE', meterLinks: { pending: 0 }, customers: { active: 0 } });
  });

  it('serves one reading per scope while it is cached', async () => {
    const first = (await dashboard(agentB)).body;
    await link(customers[1]!, '10010', B, 'pending');
    const second = (await dashboard(agentB)).body;
    // The same reading (its generatedAt included), although PostgreSQL now holds a second pending link of B.
    expect(second).toEqual(first);
    expect(first.meterLinks.pending).toBe(1);
    expect((await sql.query(`SELECT count(*)::int AS n FROM meter_links WHERE agency_code = $1 AND state = 'pending'`, [B])).rows[0].n).toBe(2);
  });
});

describe('the dashboard queries over many rows', () => {
  it('use their intended index, for an agency and for all agencies', { timeout: 120_000 }, async () => {
    // 20 agencies: 2,000 customers, 20,000 links (2% pending, 30% active), 20,000 requests over two years (most
    // resolved), 20,000 jobs over a year.
    await sql.query(`INSERT INTO users (id, phone, role, created_at) SELECT gen_random_uuid(), '+2217' || lpad(i::text, 8, '0'), 'customer', now() FROM generate_series(1, 2000) i`);
    await sql.query(
      `INSERT INTO meter_links (id, user_id, kind, meter, police, agency_code, owner, state, created_at)
       SELECT gen_random_uuid(), u.id, 'postpaid', 'BULK' || i, NULL, 'BULK-' || (i % 20),
              false, CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 10 < 3 THEN 'active' ELSE 'ended' END, now() - (i % 700) * interval '1 hour'
         FROM generate_series(1, 20000) i JOIN LATERAL (SELECT id FROM users WHERE phone = '+2217' || lpad((i % 2000 + 1)::text, 8, '0')) u ON true`,
    );
    // Anonymised requests (no author): the bulk needs no more users.
    await sql.query(
      `INSERT INTO requests (id, author_id, type, agency_code, comment, status, created_at, updated_at, anonymised_at)
       SELECT gen_random_uuid(), NULL, 'complaint', 'BULK-' || (i % 20), 'x',
              CASE WHEN i % 20 = 0 THEN 'open' WHEN i % 20 = 1 THEN 'in_progress' WHEN i % 20 = 2 THEN 'rejected' ELSE 'resolved' END,
              now() - (i % 730) * interval '1 day', now(), now()
         FROM generate_series(1, 20000) i`,
    );
    await sql.query(
      `INSERT INTO notification_jobs (id, created_by, caller_role, caller_agency, target, type, queue, title, body, request_hash, state, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'admin', NULL, '{"kind":"everyone"}', 'campaign', 'low_priority', 't', 'b', '\\x00', 'done', now() - (i % 365) * interval '1 day', now()
         FROM generate_series(1, 10000) i`,
      [admin.id],
    );
    await sql.query(
      `INSERT INTO notification_jobs (id, created_by, caller_role, caller_agency, target, type, queue, title, body, request_hash, state, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'agent', $2, '{"kind":"everyone"}', 'outage', 'urgent', 't', 'b', '\\x00', 'done', now() - (i % 365) * interval '1 day', now()
         FROM generate_series(1, 10000) i`,
      [agentA.id, A],
    );
    await sql.query('VACUUM ANALYZE meter_links, requests, notification_jobs, users');
    const times = queryTimes(Date.now());
    for (const [name, q] of Object.entries(DASHBOARD_QUERIES)) {
      for (const [scope, agency] of [['agency', name === 'notifications' ? A : 'BULK-3'], ['all', null]] as const) {
        const { text, values } = queryFor(q, agency, times);
        const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        const index = q[scope].index;
        expect(plan, `${name} (${scope}):\n${plan}`).toMatch(new RegExp(`(Index Scan|Index Only Scan)( Backward)? using ${index} on|Bitmap Index Scan on ${index}\\b`));
        expect(plan, `${name} (${scope}):\n${plan}`).not.toMatch(/Seq Scan on (meter_links|requests|notification_jobs)/);
      }
    }
  });
});
