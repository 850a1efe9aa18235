// Notification targets through meter links (issue 11, 0015 + 0017): the `meter` target (who may send it, who it
// reaches), and the `agency` / `all_agencies` targets reaching customers through their active links — in the
// accept checks, the fan-out's audience, the inbox's read-time join and the live hub's audience — on indexes.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountAudience } from '../../actors/services/live-hub-actor.js';
import type { Broker } from '../../src/adapters/broker/broker.js';
import { broadcastReaches } from '../../src/adapters/live-bus/live-event.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { SystemClock } from '../../src/clock.js';
import type { Caller } from '../../src/contracts/caller.js';
import { fanOut } from '../../src/dispatch/fan-out.js';
import { audience } from '../../src/dispatch/fan-out-audience.js';
import type { NotificationRequest, NotificationTarget } from '../../src/domain/notification-request.js';
import { InboxService } from '../../src/inbox/inbox-service.js';
import { NotificationJobService } from '../../src/notifications/notification-jobs.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

const clock = new SystemClock();
let db: TestDatabase;
let pool: pg.Pool;
let handle: PgHandle;
let phones = 0;

const admin: Caller = { userId: randomUUID(), role: 'admin', agency: null };
const agentDkr: Caller = { userId: randomUUID(), role: 'agent', agency: 'DKR' };
const agentThs: Caller = { userId: randomUUID(), role: 'agent', agency: 'THS' };
const JOB_AT = '2026-03-01T00:00:00Z';

/** A recording broker: every publish confirmed at once. */
const broker = { kind: 'memory', isUp: true, publish: () => Promise.resolve() } as unknown as Broker;

async function customer(agency: string | null = null, createdAt = '2026-01-01T00:00:00Z', deleted = false): Promise<string> {
  const id = randomUUID();
  await pool.query(`INSERT INTO users (id, phone, role, agency_code, created_at, deleted_at) VALUES ($1, $2, 'customer', $3, $4, $5)`, [
    id,
    deleted ? null : `+22178${String(++phones).padStart(7, '0')}`,
    agency,
    createdAt,
    deleted ? createdAt : null,
  ]);
  return id;
}

interface LinkSpec {
  readonly meter: string;
  readonly agency: string | null;
  readonly state?: 'pending' | 'active' | 'ended' | 'rejected';
  /** When it became active (decided_at); created_at is a month earlier. */
  readonly since?: string;
}

async function link(userId: string, spec: LinkSpec): Promise<string> {
  const id = randomUUID();
  const state = spec.state ?? 'active';
  await pool.query(
    `INSERT INTO meter_links (id, user_id, kind, meter, police, agency_code, owner, state, created_at, decided_at, ended_at)
     VALUES ($1, $2, 'prepaid', $3, 'P1', $4, false, $5, '2025-12-01T00:00:00Z', $6, $7)`,
    [id, userId, spec.meter, spec.agency, state, spec.since ?? '2026-01-15T00:00:00Z', state === 'ended' ? '2026-02-01T00:00:00Z' : null],
  );
  return id;
}

const request = (target: NotificationTarget): NotificationRequest => ({ target, type: 'planned_works', title: 'Coupure', body: 'Travaux sur le réseau', data: {} });
const accept = (caller: Caller, target: NotificationTarget) => new NotificationJobService({ db: async () => handle, clock }).accept(caller, request(target));
const refusal = (caller: Caller, target: NotificationTarget) => accept(caller, target).then(() => undefined, (e: unknown) => e as Error & { code?: string; rule?: string });

async function job(target: NotificationTarget): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, created_at, updated_at)
     VALUES (gen_random_uuid(), $1, 'admin', $2, 'planned_works', 'low_priority', 'Coupure', 'Travaux', '\\x00', $3, $3) RETURNING id`,
    [admin.userId, JSON.stringify(target), JOB_AT],
  );
  return rows[0]!.id;
}

/** Fans the job out, one user a page (the keyset paging over both sides of the merge), and returns who it reached. */
async function reached(target: NotificationTarget): Promise<{ jobId: string; users: string[]; targets: number; broadcast: boolean }> {
  const jobId = await job(target);
  const pages: number[] = [];
  await fanOut({ db: handle, broker, clock }, { jobId }, { pageSize: 1, onPage: (p) => pages.push(p.users) });
  const entries = (await pool.query<{ user_id: string }>(`SELECT user_id FROM inbox_entries WHERE job_id = $1`, [jobId])).rows.map((r) => r.user_id);
  const broadcast = ((await pool.query(`SELECT 1 FROM broadcasts WHERE job_id = $1`, [jobId])).rowCount ?? 0) > 0;
  const { rows } = await pool.query<{ target_count: number }>(`SELECT target_count FROM notification_jobs WHERE id = $1`, [jobId]);
  expect(pages.every((n) => n === 1)).toBe(true);
  // A broadcast has no entries of its own: who it reached is what its pages counted, each user once.
  return { jobId, users: broadcast ? [] : entries.sort(), targets: rows[0]!.target_count, broadcast };
}

/** The user ids a fan-out of `target` pages through, in order, as the fan-out reads them. */
async function audienceIds(target: NotificationTarget, at = JOB_AT): Promise<string[]> {
  const who = audience(target);
  const ids: string[] = [];
  let last: string | null = null;
  for (;;) {
    const { rows }: { rows: { id: string }[] } = await pool.query<{ id: string }>(who.page, [who.param, at, last, 2]);
    if (rows.length === 0) return ids;
    ids.push(...rows.map((r) => r.id));
    last = rows[rows.length - 1]!.id;
  }
}

const inboxTitles = async (userId: string) => (await new InboxService({ db: async () => handle, clock }).list({ userId, role: 'customer', agency: null })).items.map((i) => i.jobId);

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  handle = poolHandle(pool);
  await pool.query(`INSERT INTO agencies (code, name) VALUES ('DKR', 'Dakar'), ('THS', 'Thiès') ON CONFLICT DO NOTHING`);
  for (const [c, login] of [
    [admin, 'admin.t'],
    [agentDkr, 'agent.dkr.t'],
    [agentThs, 'agent.ths.t'],
  ] as const) {
    await pool.query(`INSERT INTO users (id, ldap_login, role, agency_code, created_at) VALUES ($1, $2, $3, $4, '2025-01-01T00:00:00Z')`, [c.userId, login, c.role, c.agency]);
  }
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('the meter target', () => {
  it('an agent sends only to a meter with an active link in their agency; another agency, a pending link or an unknown meter: the same 403', async () => {
    const holder = await customer();
    await link(holder, { meter: 'M-DKR-1', agency: 'DKR' });
    await link(await customer(), { meter: 'M-PENDING', agency: 'DKR', state: 'pending' });
    await link(await customer(), { meter: 'M-ENDED', agency: 'DKR', state: 'ended' });
    expect((await accept(agentDkr, { kind: 'meter', meter: 'M-DKR-1' })).replayed).toBe(false);
    const refused = await Promise.all([
      refusal(agentThs, { kind: 'meter', meter: 'M-DKR-1' }),
      refusal(agentDkr, { kind: 'meter', meter: 'M-PENDING' }),
      refusal(agentDkr, { kind: 'meter', meter: 'M-ENDED' }),
      refusal(agentDkr, { kind: 'meter', meter: 'NO-SUCH-METER' }),
    ]);
    const first = refused[0]!;
    expect(first).toMatchObject({ code: 'FORBIDDEN', rule: 'target' });
    for (const r of refused) expect({ code: r?.code, rule: r?.rule, message: r?.message }).toEqual({ code: first.code, rule: first.rule, message: first.message });
  });

  it('an admin sends to any meter, held or not; a customer never sends', async () => {
    expect((await accept(admin, { kind: 'meter', meter: 'M-DKR-1' })).replayed).toBe(false);
    expect((await accept(admin, { kind: 'meter', meter: 'NOBODY-HOLDS-IT' })).replayed).toBe(false);
    const customerCaller: Caller = { userId: await customer(), role: 'customer', agency: null };
    expect(await refusal(customerCaller, { kind: 'meter', meter: 'M-DKR-1' })).toMatchObject({ code: 'FORBIDDEN', rule: 'role' });
  });

  it('reaches every live user with an active link to the meter, one inbox entry each; not pending, ended or deleted ones', async () => {
    const meter = 'M-OUTAGE-7';
    const holders = [await customer(), await customer('THS'), await customer()];
    for (const u of holders) await link(u, { meter, agency: 'DKR' });
    // A holder's other meter changes nothing.
    await link(holders[2]!, { meter: 'OTHER', agency: 'DKR' });
    await link(await customer(), { meter, agency: 'DKR', state: 'pending' });
    await link(await customer(), { meter, agency: 'DKR', state: 'ended' });
    await link(await customer(null, '2026-01-01T00:00:00Z', true), { meter, agency: 'DKR' });
    await link(await customer(), { meter: 'M-NEIGHBOUR', agency: 'DKR' });
    const r = await reached({ kind: 'meter', meter });
    expect(r.broadcast).toBe(false);
    expect(r.users).toEqual([...holders].sort());
    expect(r.targets).toBe(3);
    for (const u of holders) expect(await inboxTitles(u)).toContain(r.jobId);
    expect(await reached({ kind: 'meter', meter: 'NOBODY-HOLDS-IT' })).toMatchObject({ users: [], targets: 0 });
  });
});

describe('the agency target through meter links', () => {
  let linked: string;
  let byAccount: string;
  let linkedLate: string;
  let linkedElsewhere: string;
  let linkEnded: string;
  let twoLinks: string;
  let noAgency: string;

  beforeAll(async () => {
    await pool.query(`INSERT INTO agencies (code, name) VALUES ('KLK', 'Kaolack')`);
    linked = await customer();
    await link(linked, { meter: 'K-1', agency: 'KLK' });
    byAccount = await customer('KLK');
    linkedLate = await customer();
    await link(linkedLate, { meter: 'K-2', agency: 'KLK', since: '2026-04-01T00:00:00Z' });
    linkedElsewhere = await customer();
    await link(linkedElsewhere, { meter: 'T-1', agency: 'THS' });
    linkEnded = await customer();
    await link(linkEnded, { meter: 'K-3', agency: 'KLK', state: 'ended' });
    twoLinks = await customer('KLK');
    await link(twoLinks, { meter: 'K-4', agency: 'KLK' });
    await link(twoLinks, { meter: 'K-5', agency: 'KLK' });
    await link(await customer(null, '2026-01-01T00:00:00Z', true), { meter: 'K-6', agency: 'KLK' });
    noAgency = await customer();
    await link(noAgency, { meter: 'X-1', agency: null });
  });

  it("an agency's audience is its accounts and the customers with a link of it active when the job was made, each once, in id order", async () => {
    const ids = await audienceIds({ kind: 'agency', agency: 'KLK' });
    expect(ids).toEqual([linked, byAccount, twoLinks].sort());
    // After the late link became active, it counts too.
    expect(await audienceIds({ kind: 'agency', agency: 'KLK' }, '2026-05-01T00:00:00Z')).toEqual([linked, byAccount, twoLinks, linkedLate].sort());
    const r = await reached({ kind: 'agency', agency: 'KLK' });
    expect(r).toMatchObject({ broadcast: true, targets: 3 });
  });

  it('all agencies reach every customer with an account agency or a link of an agency; not one whose only link has none', async () => {
    const ids = await audienceIds({ kind: 'all_agencies' });
    for (const u of [linked, byAccount, twoLinks, linkedElsewhere]) expect(ids).toContain(u);
    for (const u of [linkedLate, linkEnded, noAgency]) expect(ids).not.toContain(u);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("the inbox shows the agency's broadcast to the customers it reached, and not to the others", async () => {
    const { jobId } = await reached({ kind: 'agency', agency: 'KLK' });
    for (const u of [linked, byAccount, twoLinks]) expect(await inboxTitles(u)).toContain(jobId);
    for (const u of [linkedLate, linkedElsewhere, linkEnded, noAgency]) expect(await inboxTitles(u)).not.toContain(jobId);
    const all = await reached({ kind: 'all_agencies' });
    for (const u of [linked, byAccount, twoLinks, linkedElsewhere]) expect(await inboxTitles(u)).toContain(all.jobId);
    for (const u of [linkedLate, linkEnded, noAgency]) expect(await inboxTitles(u)).not.toContain(all.jobId);
    // Marking it read goes through the same rule: the one who sees it may, the one who does not gets 404.
    const inbox = new InboxService({ db: async () => handle, clock });
    const item = (await inbox.list({ userId: linked, role: 'customer', agency: null })).items.find((i) => i.jobId === jobId)!;
    await inbox.markRead({ userId: linked, role: 'customer', agency: null }, item.id);
    await expect(inbox.markRead({ userId: linkedElsewhere, role: 'customer', agency: null }, item.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('an agent may target a customer of their agency by link, not one linked only elsewhere (the same 403 as an unknown id)', async () => {
    const klk: Caller = { userId: agentDkr.userId, role: 'agent', agency: 'KLK' };
    expect((await accept(klk, { kind: 'users', userIds: [linked, byAccount] })).replayed).toBe(false);
    const elsewhere = await refusal(klk, { kind: 'user', userId: linkedElsewhere });
    const ended = await refusal(klk, { kind: 'user', userId: linkEnded });
    const unknown = await refusal(klk, { kind: 'user', userId: randomUUID() });
    expect(elsewhere).toMatchObject({ code: 'FORBIDDEN', rule: 'target' });
    expect([ended?.message, unknown?.message]).toEqual([elsewhere?.message, elsewhere?.message]);
  });

  it("the live hub's audience carries the active links, and a broadcast reaches a socket by the inbox's rule", async () => {
    const of = accountAudience(async () => handle);
    const a = (await of(linked))!;
    expect(a.links).toEqual([{ agency: 'KLK', since: '2026-01-15T00:00:00.000Z' }]);
    expect((await of(linkEnded))!.links).toEqual([]);
    expect(await of(randomUUID())).toBeNull();
    const at = '2026-03-01T00:00:00.000Z';
    expect(broadcastReaches({ kind: 'agency', agency: 'KLK' }, at, a)).toBe(true);
    expect(broadcastReaches({ kind: 'agency', agency: 'THS' }, at, a)).toBe(false);
    expect(broadcastReaches({ kind: 'all_agencies' }, at, a)).toBe(true);
    // Sent before the link became active: not the customer's, as in the inbox.
    const late = (await of(linkedLate))!;
    expect(broadcastReaches({ kind: 'agency', agency: 'KLK' }, at, late)).toBe(false);
    expect(broadcastReaches({ kind: 'agency', agency: 'KLK' }, '2026-04-02T00:00:00.000Z', late)).toBe(true);
    expect(broadcastReaches({ kind: 'all_agencies' }, at, (await of(noAgency))!)).toBe(false);
  });

  it("pages an agency's audience on indexes: users_agency (0017) and meter_links_agency_active (0015), no scan of either table", async () => {
    const who = audience({ kind: 'agency', agency: 'KLK' });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The test tables are tiny, where a scan is cheapest; forbidding scans shows the plan the indexes allow.
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${who.page}`, ['KLK', JOB_AT, null, 100]);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('users_agency');
      expect(plan).toContain('meter_links_agency_active');
      expect(plan).not.toMatch(/Seq Scan on (users|meter_links)/);
      const meter = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${audience({ kind: 'meter', meter: 'K-1' }).page}`, ['K-1', JOB_AT, null, 100]);
      const meterPlan = meter.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(meterPlan).toMatch(/Index (Only )?Scan using meter_links_\w+ on meter_links/);
      expect(meterPlan).not.toMatch(/Seq Scan on (users|meter_links)/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
