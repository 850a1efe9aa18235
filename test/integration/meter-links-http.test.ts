// The meter linking flow (DOMAIN.md rule 4) through a whole node (role all) on the real PostgreSQL, Redis and
// RabbitMQ, SIC in twin mode: an owner's link active at once (default, queued for SIC), a stranger's pending and
// showing nothing from SIC while the owner is told (job, outbox row, then the owner's inbox once dispatch ran),
// approval and rejection by the owner or an agent of the meter's agency with the requester told, 404 for anyone
// else, 409 for a duplicate or a decided link, ending a link moving the default, account deletion ending links,
// and the per-user and per-address limits (429 with Retry-After), misses included.
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP_LIMITS } from '../../src/adapters/cache/ip-limiter.js';
import { meterLinkSchema } from '../../src/contracts/meters-messages.js';
import type { RunningNode } from '../../src/node.js';
import { insertCustomer, insertMeters, insertStaff, postpaidRow, prepaidRow, TEST_PIN, type TestUser } from '../support/meter-links.js';
import { startTestNode } from '../support/node.js';
import { waitFor } from '../support/wait.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';

// Meter numbers of this file alone: the lookups are cached in the shared Redis under the number.
const M1 = '14299100001'; // owned by A, agency DAKAR-PLATEAU
const M2 = '14299100002'; // owned by A too
const ACCOUNT = '399100003'; // postpaid, owned by A, agency PIKINE
const M4 = '14299100004'; // nobody's phone in the app, agency THIES
const M5 = '14299100005'; // owned by F (account deletion)
const A_PHONE = '+221779910001';
const F_PHONE = '+221779910005';

let db: TestDatabase;
let vhost: TestVhost;
let node: RunningNode;
let sql: pg.Pool;
// This run's client addresses: the per-address limit lives in the shared Redis for an hour.
const net = `10.${randomInt(0, 255)}.${randomInt(0, 255)}`;
let host = 0;
const freshIp = () => `${net}.${(++host % 250) + 1}`;

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: Record<string, any>;
}

async function call(method: string, path: string, token: string, body?: unknown, ip = freshIp()): Promise<Answer> {
  const res = await fetch(`${node.apiUrl}${path}`, {
    method,
    headers: { 'x-forwarded-for': ip, authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}
const link = (u: TestUser, kind: 'prepaid' | 'postpaid', meter: string, ip?: string) => call('POST', '/v1/me/meters', u.token, { kind, meter }, ip);
const myLinks = async (u: TestUser) => (await call('GET', '/v1/me/meters', u.token)).body.items as Record<string, any>[];
const decide = (u: TestUser, linkId: string, decision: 'approve' | 'reject') => call('POST', `/v1/meter-links/${linkId}/${decision}`, u.token);

/** The user's inbox items of a type, read through the API once the dispatch has delivered them. */
async function inboxOf(u: TestUser, type: string, count = 1): Promise<Record<string, any>[]> {
  return waitFor(`${count} ${type} in the inbox`, async () => {
    const items = ((await call('GET', '/v1/me/notifications?limit=100', u.token)).body.items as Record<string, any>[]).filter((i) => i.type === type);
    return items.length >= count ? items : false;
  });
}

let A: TestUser; // owner of M1, M2 and ACCOUNT
let B: TestUser;
let C: TestUser;
let D: TestUser;
let agentDakar: TestUser;
let agentThies: TestUser;
let admin: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  vhost = await createTestVhost();
  node = await startTestNode({ DATABASE_URL: db.url, AMQP_URL: vhost.url, REDIS_URL: servicesEnv().TEST_REDIS_URL, TRUSTED_PROXY_HOPS: '1',
    // No poll within the test: a meter reaches SIC only because its link woke the registrar.
    SIC_REGISTRATION_POLL_MS: '3600000' });
  await waitFor('ready', () => node.runtime.readiness('test').ready, 30_000);
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  await insertMeters(sql, {
    prepaid: [prepaidRow(M1, '77 991 00 01', 'DAKAR-PLATEAU'), prepaidRow(M2, '779910001', 'DAKAR-PLATEAU'), prepaidRow(M4, '+221 70 000 00 99', 'THIES'), prepaidRow(M5, F_PHONE, 'THIES')],
    postpaid: [postpaidRow(ACCOUNT, '221779910001', 'PIKINE')],
  });
  A = await insertCustomer(sql, A_PHONE, 'Aminata');
  B = await insertCustomer(sql, '+221779910011', 'Binta');
  C = await insertCustomer(sql, '+221779910012', 'Cheikh');
  D = await insertCustomer(sql, '+221779910013', 'Daba');
  agentDakar = await insertStaff(sql, 'agent', 'DAKAR-PLATEAU');
  agentThies = await insertStaff(sql, 'agent', 'THIES');
  admin = await insertStaff(sql, 'admin', null);
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await vhost?.delete();
  await db?.drop();
});

describe('linking a meter', () => {
  it('makes the owner (phone on file = proved phone) an active link at once, the first one the default, queued for SIC', async () => {
    const first = await link(A, 'prepaid', M1);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ kind: 'prepaid', meter: M1, state: 'active', owner: true, isDefault: true, agency: 'DAKAR-PLATEAU', decidedAt: null });
    const second = await link(A, 'postpaid', ACCOUNT);
    expect(second.body).toMatchObject({ kind: 'postpaid', meter: ACCOUNT, state: 'active', owner: true, isDefault: false, agency: 'PIKINE' });
    const { rows } = await sql.query(`SELECT kind, meter FROM sic_registrations ORDER BY meter`);
    expect(rows).toEqual([
      { kind: 'prepaid', meter: M1 },
      { kind: 'postpaid', meter: ACCOUNT },
    ].sort((a, b) => a.meter.localeCompare(b.meter)));
    // The link wakes the SIC registrar: both meters reach SIC's registry (the twin) without waiting for a poll.
    const registry = async () => (await sql.query(`SELECT numero, type_compteur FROM sic."compteurs_app_mobile" WHERE numero = ANY($1) ORDER BY numero`, [[M1, ACCOUNT]])).rows;
    await waitFor('both meters registered in SIC', async () => (await registry()).length === 2);
    expect(await registry()).toEqual([{ numero: M1, type_compteur: 1 }, { numero: ACCOUNT, type_compteur: 2 }].sort((a, b) => a.numero.localeCompare(b.numero)));
    const stored = await sql.query(`SELECT police, agency_code FROM meter_links WHERE id = $1`, [first.body.id]);
    expect(stored.rows[0]).toEqual({ police: 'P100001', agency_code: 'DAKAR-PLATEAU' });
    expect((await myLinks(A)).map((l) => [l.meter, l.isDefault])).toEqual([[M1, true], [ACCOUNT, false]]);
  });

  it('answers 404 METER_NOT_FOUND for a number SIC does not know, 409 METER_ALREADY_LINKED for a meter linked already', async () => {
    expect(await link(A, 'prepaid', '14299199999')).toMatchObject({ status: 404, body: { code: 'METER_NOT_FOUND' } });
    // A meter number given as a postpaid account is another meter, which does not exist.
    expect(await link(A, 'postpaid', M1)).toMatchObject({ status: 404, body: { code: 'METER_NOT_FOUND' } });
    expect(await link(A, 'prepaid', ` ${M1} `)).toMatchObject({ status: 409, body: { code: 'METER_ALREADY_LINKED' } });
    expect((await sql.query(`SELECT 1 FROM meter_links WHERE user_id = $1`, [A.id])).rowCount).toBe(2);
  });

  it('refuses agents and admins (403): they decide on links, they hold none', async () => {
    for (const staff of [agentDakar, admin]) expect(await link(staff, 'prepaid', M1)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  });

  it("makes a stranger's link pending, showing nothing from SIC, and notifies the meter's owner", async () => {
    const pending = await link(B, 'prepaid', M1);
    expect(pending.status).toBe(201);
    expect(pending.body).toMatchObject({ meter: M1, state: 'pending', owner: false, isDefault: false });
    // The view is the link's own fields, exactly: no name, address, phone, POC or customer number from SIC.
    expect(Object.keys(pending.body).sort()).toEqual(Object.keys(meterLinkSchema.shape).sort());
    expect(JSON.stringify(await myLinks(B))).not.toMatch(/SECRET|Medina|P100001|CL-|779910001/);

    const jobs = await sql.query(`SELECT id, caller_role, caller_agency, created_by, target, type, queue, body, data FROM notification_jobs WHERE type = 'meter_access_request'`);
    expect(jobs.rows).toHaveLength(1);
    expect(jobs.rows[0]).toMatchObject({
      caller_role: 'system', caller_agency: null, created_by: B.id, target: { kind: 'user', userId: A.id }, queue: 'high_priority',
      body: `Binta wants access to meter ${M1}.`, data: { linkId: pending.body.id, kind: 'prepaid', meter: M1 },
    });
    expect((await sql.query(`SELECT 1 FROM outbox WHERE job_id = $1`, [jobs.rows[0].id])).rowCount).toBe(1);
    const [item] = await inboxOf(A, 'meter_access_request');
    expect(item).toMatchObject({ title: 'Request to access your meter', body: `Binta wants access to meter ${M1}.`, data: { linkId: pending.body.id } });
    expect(item!.body).not.toMatch(/\+221|77/);

    const requests = await call('GET', '/v1/me/meter-requests', A.token);
    expect(requests.body.items).toEqual([expect.objectContaining({ id: pending.body.id, state: 'pending', requesterFirstName: 'Binta' })]);
  });

  it('leaves a pending link to a meter nobody owns in the app with no notification', async () => {
    const before = (await sql.query(`SELECT 1 FROM notification_jobs`)).rowCount;
    expect((await link(C, 'prepaid', M4)).body).toMatchObject({ state: 'pending', agency: 'THIES' });
    expect((await sql.query(`SELECT 1 FROM notification_jobs`)).rowCount).toBe(before);
  });
});

describe('deciding a pending link', () => {
  it('the owner approves: active, the requester\'s default, queued for SIC, the requester notified; a second decision is 409', async () => {
    const pending = (await myLinks(B)).find((l) => l.meter === M1)!;
    const approved = await decide(A, pending.id, 'approve');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: pending.id, state: 'active', owner: false, isDefault: true });
    expect(approved.body.decidedAt).not.toBeNull();
    const row = await sql.query(`SELECT decided_by FROM meter_links WHERE id = $1`, [pending.id]);
    expect(row.rows[0].decided_by).toBe(A.id);
    expect(await decide(A, pending.id, 'reject')).toMatchObject({ status: 409, body: { code: 'METER_LINK_NOT_PENDING' } });
    const [item] = await inboxOf(B, 'link_approved');
    expect(item).toMatchObject({ body: `Your access to meter ${M1} was approved.`, data: { linkId: pending.id } });
    const job = await sql.query(`SELECT caller_role, created_by, target FROM notification_jobs WHERE type = 'link_approved'`);
    expect(job.rows).toEqual([{ caller_role: 'system', created_by: A.id, target: { kind: 'user', userId: B.id } }]);
  });

  it('the owner rejects: rejected, gone from the requester\'s list, the requester notified; they may ask again', async () => {
    const pending = await link(D, 'prepaid', M1);
    const rejected = await decide(A, pending.body.id, 'reject');
    expect(rejected).toMatchObject({ status: 200, body: { state: 'rejected', isDefault: false } });
    expect(await myLinks(D)).toEqual([]);
    expect((await inboxOf(D, 'link_rejected'))[0]).toMatchObject({ body: `Your request for meter ${M1} was not approved.` });
    expect((await link(D, 'prepaid', M1)).body).toMatchObject({ state: 'pending' });
  });

  it("an agent of the meter's agency approves; another agency's agent, a customer who does not own the meter, and an unknown id get 404", async () => {
    const pending = (await myLinks(D)).find((l) => l.state === 'pending')!;
    for (const who of [agentThies, B, D, C]) expect(await decide(who, pending.id, 'approve'), 'not theirs to decide').toMatchObject({ status: 404, body: { code: 'METER_LINK_NOT_FOUND' } });
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) expect(await decide(admin, id, 'approve')).toMatchObject({ status: 404, body: { code: 'METER_LINK_NOT_FOUND' } });

    const ids = async (u: TestUser) => ((await call('GET', '/v1/me/meter-requests', u.token)).body.items as { id: string }[]).map((i) => i.id);
    expect(await ids(agentDakar)).toContain(pending.id);
    expect(await ids(agentThies)).not.toContain(pending.id);
    expect(await ids(admin)).toEqual(expect.arrayContaining([pending.id, (await myLinks(C))[0]!.id]));
    expect(await ids(B)).toEqual([]);

    const approved = await decide(agentDakar, pending.id, 'approve');
    expect(approved).toMatchObject({ status: 200, body: { state: 'active', isDefault: true } });
    expect((await sql.query(`SELECT decided_by FROM meter_links WHERE id = $1`, [pending.id])).rows[0].decided_by).toBe(agentDakar.id);
    await inboxOf(D, 'link_approved');
  });

  it('lets only one of two racing deciders win; the other gets 409', async () => {
    // M2's owner has no link yet: its agency's agent and an admin decide.
    const pending = (await link(C, 'prepaid', M2)).body;
    const answers = await Promise.all([decide(admin, pending.id, 'approve'), decide(agentDakar, pending.id, 'reject')]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect((await sql.query(`SELECT 1 FROM notification_jobs WHERE data ->> 'linkId' = $1`, [pending.id])).rowCount).toBe(1);
  });
});

describe('ending links and the default', () => {
  it('ends a link (204); the newest active link left becomes the default; the default can be chosen; others\' links are 404', async () => {
    const m2 = await link(A, 'prepaid', M2);
    expect(m2.body).toMatchObject({ state: 'active', isDefault: false });
    const m1 = (await myLinks(A)).find((l) => l.meter === M1)!;
    expect(m1.isDefault).toBe(true);
    expect((await call('DELETE', `/v1/me/meters/${m1.id}`, B.token)).status).toBe(404);
    expect((await call('DELETE', `/v1/me/meters/${m1.id}`, A.token)).status).toBe(204);
    expect((await call('DELETE', `/v1/me/meters/${m1.id}`, A.token)).body.code).toBe('METER_LINK_NOT_FOUND');
    expect((await myLinks(A)).map((l) => [l.meter, l.isDefault])).toEqual([[M2, true], [ACCOUNT, false]]);
    const ended = await sql.query(`SELECT state, is_default, ended_at FROM meter_links WHERE id = $1`, [m1.id]);
    expect(ended.rows[0]).toMatchObject({ state: 'ended', is_default: false });
    expect(ended.rows[0].ended_at).not.toBeNull();

    const account = (await myLinks(A)).find((l) => l.meter === ACCOUNT)!;
    expect(await call('PUT', `/v1/me/meters/${account.id}/default`, A.token)).toMatchObject({ status: 200, body: { isDefault: true } });
    expect((await myLinks(A)).map((l) => [l.meter, l.isDefault])).toEqual([[ACCOUNT, true], [M2, false]]);
    // Not the caller's, ended, or pending: the same 404.
    const cPending = (await myLinks(C)).find((l) => l.state === 'pending')!;
    for (const [u, id] of [[B, account.id], [A, m1.id], [C, cPending.id]] as const) {
      expect(await call('PUT', `/v1/me/meters/${id}/default`, u.token)).toMatchObject({ status: 404, body: { code: 'METER_LINK_NOT_FOUND' } });
    }
  });

  it('ends every link of a deleted account, in the deletion', async () => {
    const F = await insertCustomer(sql, F_PHONE, 'Fatou');
    expect((await link(F, 'prepaid', M5)).body).toMatchObject({ state: 'active', isDefault: true });
    expect((await link(F, 'prepaid', M2)).body).toMatchObject({ state: 'pending' });
    expect((await call('DELETE', '/v1/me', F.token, { pin: TEST_PIN })).status).toBe(204);
    const { rows } = await sql.query(`SELECT state, is_default, ended_at FROM meter_links WHERE user_id = $1`, [F.id]);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ state: 'ended', is_default: false, ended_at: expect.any(Date) });
  });
});

describe('limits', () => {
  it('limits one customer (429 with Retry-After), misses included, before SIC is asked', async () => {
    const G = await insertCustomer(sql, '+221779910020', 'Gora');
    const { points } = IP_LIMITS['meter-link'];
    for (let i = 0; i < points; i++) expect((await link(G, 'prepaid', `1429920${String(i).padStart(4, '0')}`)).status).toBe(404);
    const tripped = await link(G, 'prepaid', M4);
    expect(tripped).toMatchObject({ status: 429, body: { code: 'TOO_MANY_REQUESTS' } });
    expect(Number(tripped.retryAfter)).toBeGreaterThan(0);
    expect((await sql.query(`SELECT 1 FROM meter_links WHERE user_id = $1`, [G.id])).rowCount).toBe(0);
  });

  it('limits one client address across customers, while the same customer from another address still links', async () => {
    const ip = freshIp();
    const perUser = IP_LIMITS['meter-link'].points;
    const { points } = IP_LIMITS['meter-link-ip'];
    let sent = 0;
    for (let u = 0; sent < points; u++) {
      const user = await insertCustomer(sql, `+2217799103${String(u).padStart(2, '0')}`, 'Ibou');
      for (let i = 0; i < perUser && sent < points; i++, sent++) expect((await link(user, 'prepaid', `1429930${String(sent).padStart(4, '0')}`, ip)).status).toBe(404);
    }
    const fresh = await insertCustomer(sql, '+221779910399', 'Jules');
    const tripped = await link(fresh, 'prepaid', M4, ip);
    expect(tripped).toMatchObject({ status: 429, body: { code: 'TOO_MANY_REQUESTS' } });
    expect(Number(tripped.retryAfter)).toBeGreaterThan(0);
    expect((await link(fresh, 'prepaid', M4)).body).toMatchObject({ state: 'pending' });
  });
});

describe("reading a meter's data on the whole stack (PostgreSQL, Redis, RabbitMQ): rule 5", () => {
  it("answers the owner, and gives customer B and another agency's agent the same 404 as an unknown id, on every read", async () => {
    let links = (await myLinks(A)).filter((l) => l.state === 'active');
    if (!links.some((l) => l.meter === M1)) await link(A, 'prepaid', M1);
    if (!links.some((l) => l.meter === ACCOUNT)) await link(A, 'postpaid', ACCOUNT);
    links = await myLinks(A);
    const prepaid = links.find((l) => l.meter === M1 && l.state === 'active')!;
    const postpaid = links.find((l) => l.meter === ACCOUNT && l.state === 'active')!;
    const reads = [`/v1/meters/${prepaid.id}/purchases`, `/v1/meters/${prepaid.id}/purchases/monthly`, `/v1/meters/${postpaid.id}/bills`, `/v1/meters/${postpaid.id}/bills/monthly`, `/v1/meters/${postpaid.id}/contract`];
    const without = (b: Record<string, any>) => ({ ...b, requestId: undefined, instance: undefined });
    const unknown = without((await call('GET', '/v1/meters/00000000-0000-4000-8000-00000000beef/contract', B.token)).body);
    expect(unknown).toMatchObject({ status: 404, code: 'METER_LINK_NOT_FOUND' });
    for (const path of reads) {
      expect((await call('GET', path, A.token)).status, path).toBe(200);
      for (const stranger of [B, agentThies]) {
        const refused = await call('GET', path, stranger.token);
        expect(refused.status, path).toBe(404);
        expect(without(refused.body), path).toEqual(unknown);
      }
    }
    // The meter's own agency reads the prepaid meter (DAKAR-PLATEAU); the postpaid one is PIKINE's.
    expect((await call('GET', reads[0]!, agentDakar.token)).status).toBe(200);
    expect((await call('GET', reads[2]!, agentDakar.token)).status).toBe(404);
    expect((await call('GET', reads[4]!, admin.token)).status).toBe(200);
  });
});
