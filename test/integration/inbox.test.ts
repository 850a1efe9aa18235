// GET/POST/DELETE /v1/me/notifications through the whole node against real PostgreSQL: targeted entries and
// broadcasts (stored once, joined at read time) merged in one cursor-paged list, the unread filter, read,
// read-all, delete, and nobody reaching another user's items.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { inboxActor } from '../../actors/services/inbox-actor.js';
import { inboxRoutes, type InboxGateway } from '../../http/routes/inbox-routes.js';
import { routesBySurface } from '../../http/routes/route-catalogue.js';
import type { RouteDefinition } from '../../http/route.js';
import { SystemClock } from '../../src/clock.js';
import type { InboxMessage } from '../../src/contracts/inbox-messages.js';
import type { Reply } from '../../src/contracts/reply.js';
import type { TreeNode } from '../../src/contracts/supervision.js';
import { InboxService } from '../../src/inbox/inbox-service.js';
import type { BroadcastScope } from '../../src/domain/notification-request.js';
import type { RunningNode } from '../../src/node.js';
import { resources } from '../../src/resources.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Client;
const tokens: Record<'alice' | 'bob' | 'carol' | 'agent', string> = { alice: '', bob: '', carol: '', agent: '' };
const ids: Record<'alice' | 'bob' | 'carol' | 'admin', string> = { alice: '', bob: '', carol: '', admin: '' };

// --- Until supervisors/tree/root.ts runs an `inbox` actor and the route catalogue lists inboxRoutes, the test mounts
// the routes itself and runs the actor's behaviour in process over the node's own PostgreSQL actor.
const hasActor = (n: TreeNode): boolean => (n.kind === 'actor' && n.name === 'inbox') || (n.children ?? []).some(hasActor);
let localInbox: ((msg: InboxMessage) => void) | undefined;
const testGateway: InboxGateway = {
  ask(actor, type, payload) {
    if (hasActor(node.runtime.tree())) return node.runtime.ask<InboxMessage, typeof type>(actor, type, payload, 5_000);
    if (!localInbox) {
      const behaviour = inboxActor(() => new InboxService({ db: () => resources(node.runtime).db(), clock: new SystemClock() }))();
      // init does not use its context; handle starts the service call and returns the same state.
      const state = behaviour.init(undefined as never) as Awaited<ReturnType<typeof behaviour.init>>;
      localInbox = (msg) => void behaviour.handle(state, msg, undefined as never);
    }
    const run = localInbox;
    return new Promise((resolve, reject) => {
      let settled = false;
      const replyTo: Reply<unknown> = {
        ok: (v) => ((settled = true), resolve(v as never)),
        fail: (e) => ((settled = true), reject(e)),
        get settled() {
          return settled;
        },
      };
      run({ ...payload, type, replyTo } as unknown as InboxMessage);
    });
  },
};
const catalogued = routesBySurface({ gateway: testGateway as never, openApiDocument: () => ({}) as never }).api.some((r) => r.key === 'GET /v1/me/notifications');
const extraRoutes: RouteDefinition[] = catalogued ? [] : inboxRoutes({ gateway: testGateway });

// --- Data: jobs dated explicitly (microseconds included), entries and broadcasts written by the service's write side.
const writer = new InboxService({ db: () => Promise.reject(new Error('write side only')), clock: new SystemClock() });
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (minutes: number, micros = 0) => new Date(T0 + minutes * 60_000).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);

async function job(createdAt: string, title: string, target: object): Promise<string> {
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, data, request_hash, created_at, updated_at)
     VALUES (gen_random_uuid(), $1, 'admin', $2, 'planned_works', 'low_priority', $3, 'Corps', $4, '\\x00', $5, $5) RETURNING id`,
    [ids.admin, JSON.stringify(target), title, JSON.stringify({ title }), createdAt],
  );
  return rows[0]!.id;
}
async function entriesJob(createdAt: string, title: string, userIds: string[]): Promise<string> {
  const id = await job(createdAt, title, { kind: 'users', userIds });
  expect(await writer.addEntries(sql, id, userIds)).toBe(userIds.length);
  return id;
}
async function broadcastJob(createdAt: string, title: string, scope: BroadcastScope): Promise<string> {
  const id = await job(createdAt, title, scope);
  expect(await writer.addBroadcast(sql, id, scope)).toBe(true);
  return id;
}

interface Item {
  id: string;
  jobId: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, string>;
  createdAt: string;
  read: boolean;
}
const call = async (token: string, method: string, path: string) => {
  const res = await fetch(`${node.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
};
const page = async (token: string, query = '') => {
  const res = await call(token, 'GET', `/v1/me/notifications${query}`);
  expect(res.status).toBe(200);
  return res.body as { items: Item[]; nextCursor: string | null };
};
/** Every item, walking the cursor pages. */
async function walk(token: string, limit: number, extra = ''): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const p = await page(token, `?limit=${limit}${extra}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(p.items.length).toBeLessThanOrEqual(limit);
    items.push(...p.items);
    cursor = p.nextCursor;
    pages++;
    expect(pages, 'the cursor must move on').toBeLessThan(50);
  } while (cursor);
  return { items, pages };
}
/** Newest first by (createdAt, id), strictly. */
function expectOrdered(items: Item[]): void {
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1]!;
    const b = items[i]!;
    expect(a.createdAt >= b.createdAt, `${a.createdAt} before ${b.createdAt}`).toBe(true);
    if (a.createdAt === b.createdAt) expect(BigInt(a.id) > BigInt(b.id)).toBe(true);
  }
}

const aliceEntries: string[] = [];
const bobEntries: string[] = [];
const jobs = { dakar: [] as string[], thies: '', allAgencies: '', everyone: '', beforeAccounts: '' };

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url }, { extraRoutes });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await sql.query(`INSERT INTO agencies (code, name) VALUES ('DAKAR-PLATEAU', 'Dakar Plateau'), ('THIES', 'Thiès') ON CONFLICT DO NOTHING`);
  const customer = async (phone: string, agency: string, createdAt: string) =>
    (
      await sql.query<{ id: string }>(
        `INSERT INTO users (id, phone, role, agency_code, phone_proved_at, created_at) VALUES (gen_random_uuid(), $1, 'customer', $2, $3, $3) RETURNING id`,
        [phone, agency, createdAt],
      )
    ).rows[0]!.id;
  ids.alice = await customer('+221770000001', 'DAKAR-PLATEAU', '2026-01-01T00:00:00Z');
  ids.bob = await customer('+221770000002', 'THIES', '2026-01-01T00:00:00Z');
  // Carol's account is younger than most broadcasts: she sees only those sent after it was created.
  ids.carol = await customer('+221770000003', 'DAKAR-PLATEAU', at(12));
  ids.admin = (await sql.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.inbox', 'admin', now()) RETURNING id`)).rows[0]!.id;
  const agentId = (await sql.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, agency_code, created_at) VALUES (gen_random_uuid(), 'agent.inbox', 'agent', 'DAKAR-PLATEAU', now()) RETURNING id`)).rows[0]!.id;
  for (const who of ['alice', 'bob', 'carol'] as const) tokens[who] = await mintToken({ role: 'customer', sub: ids[who] });
  tokens.agent = await mintToken({ role: 'agent', agency: 'DAKAR-PLATEAU', sub: agentId });

  // Alice: 25 targeted notifications, one a minute; Bob: 2.
  for (let i = 0; i < 25; i++) aliceEntries.push(await entriesJob(at(i), `alice ${i}`, [ids.alice]));
  for (let i = 0; i < 2; i++) bobEntries.push(await entriesJob(at(i, 500), `bob ${i}`, [ids.bob]));
  // Broadcasts: five to Dakar between Alice's entries, one to Thiès, one to all agencies at exactly the time of an
  // entry (a tie broken by id), one to everyone a few microseconds after an entry, one from before the accounts.
  for (let k = 0; k < 5; k++) jobs.dakar.push(await broadcastJob(at(k * 5 + 0.5), `dakar ${k}`, { kind: 'agency', agency: 'DAKAR-PLATEAU' }));
  jobs.thies = await broadcastJob(at(15), 'thies', { kind: 'agency', agency: 'THIES' });
  jobs.allAgencies = await broadcastJob(at(10), 'all agencies', { kind: 'all_agencies' });
  jobs.everyone = await broadcastJob(at(20, 7), 'everyone', { kind: 'everyone' });
  jobs.beforeAccounts = await broadcastJob('2025-12-01T00:00:00Z', 'too old', { kind: 'everyone' });
});
afterAll(async () => {
  await sql?.end();
  await node?.stop();
  await db?.drop();
});

describe('the inbox', () => {
  it('pages through entries and broadcasts newest first, without duplicates or gaps', async () => {
    const all = await page(tokens.alice, '?limit=100');
    expect(all.nextCursor).toBeNull();
    expect(new Set(all.items.map((i) => i.jobId))).toEqual(new Set([...aliceEntries, ...jobs.dakar, jobs.allAgencies, jobs.everyone]));
    expect(all.items).toHaveLength(32);
    expectOrdered(all.items);
    expect(all.items[0]).toMatchObject({ title: 'alice 24', body: 'Corps', type: 'planned_works', data: { title: 'alice 24' }, read: false });

    const walked = await walk(tokens.alice, 7);
    expect(walked.pages).toBe(5);
    expect(walked.items.map((i) => i.id)).toEqual(all.items.map((i) => i.id));

    // The default page is 20 and says there is more.
    const first = await page(tokens.alice);
    expect(first.items).toHaveLength(20);
    expect(first.nextCursor).not.toBeNull();
  });

  it('delivers a broadcast to its agency only, stored as one row', async () => {
    const bob = await page(tokens.bob, '?limit=100');
    expect(new Set(bob.items.map((i) => i.jobId))).toEqual(new Set([...bobEntries, jobs.thies, jobs.allAgencies, jobs.everyone]));
    const carol = await page(tokens.carol, '?limit=100');
    expect(new Set(carol.items.map((i) => i.jobId))).toEqual(new Set([jobs.dakar[3], jobs.dakar[4], jobs.everyone]));

    const stored = await sql.query<{ broadcasts: number; entries: number; reads: number }>(
      `SELECT (SELECT count(*)::int FROM broadcasts WHERE job_id = $1) AS broadcasts,
              (SELECT count(*)::int FROM inbox_entries WHERE job_id = $1) AS entries,
              (SELECT count(*)::int FROM broadcast_reads WHERE job_id = $1) AS reads`,
      [jobs.dakar[4]],
    );
    expect(stored.rows[0]).toEqual({ broadcasts: 1, entries: 0, reads: 0 });
    // The fan-out writing again (a resumed job) changes nothing.
    expect(await writer.addBroadcast(sql, jobs.dakar[4]!, { kind: 'agency', agency: 'DAKAR-PLATEAU' })).toBe(false);
    expect(await writer.addEntries(sql, aliceEntries[0]!, [ids.alice, ids.alice])).toBe(0);
  });

  it('marks one entry and one broadcast read, per user, and filters unread', async () => {
    const all = (await page(tokens.alice, '?limit=100')).items;
    const entry = all.find((i) => i.jobId === aliceEntries[24])!;
    const broadcast = all.find((i) => i.jobId === jobs.everyone)!;
    for (const item of [entry, broadcast]) {
      expect((await call(tokens.alice, 'POST', `/v1/me/notifications/${item.id}/read`)).status).toBe(204);
      expect((await call(tokens.alice, 'POST', `/v1/me/notifications/${item.id}/read`)).status).toBe(204); // again: fine
    }
    const after = (await page(tokens.alice, '?limit=100')).items;
    expect(after.filter((i) => i.read).map((i) => i.id).sort()).toEqual([entry.id, broadcast.id].sort());

    const unread = await walk(tokens.alice, 6, '&unread=true');
    expect(unread.items).toHaveLength(30);
    expect(unread.items.every((i) => !i.read)).toBe(true);
    expectOrdered(unread.items);
    expect(unread.items.map((i) => i.id)).not.toContain(broadcast.id);

    // Bob's copy of the same broadcast is still unread; one state row exists, Alice's.
    expect((await page(tokens.bob, '?limit=100')).items.find((i) => i.jobId === jobs.everyone)).toMatchObject({ read: false });
    expect((await sql.query(`SELECT 1 FROM broadcast_reads WHERE job_id = $1`, [jobs.everyone])).rowCount).toBe(1);
  });

  it("answers 404 for another user's entry or broadcast, and for ids that are no item", async () => {
    const aliceItems = (await page(tokens.alice, '?limit=100')).items;
    const aliceEntry = aliceItems.find((i) => i.jobId === aliceEntries[3])!;
    const dakarBroadcast = aliceItems.find((i) => i.jobId === jobs.dakar[0])!;
    for (const id of [aliceEntry.id, dakarBroadcast.id, '0', 'abc', '99999999999999999999']) {
      expect(await call(tokens.bob, 'POST', `/v1/me/notifications/${id}/read`)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
      expect((await call(tokens.bob, 'DELETE', `/v1/me/notifications/${id}`)).status).toBe(404);
    }
    // Carol is in Dakar but her account is younger than that broadcast.
    expect((await call(tokens.carol, 'POST', `/v1/me/notifications/${dakarBroadcast.id}/read`)).status).toBe(404);
    // Nothing of Alice's changed.
    expect((await page(tokens.alice, '?limit=100')).items.find((i) => i.id === aliceEntry.id)).toMatchObject({ read: false });
  });

  it('deletes an entry and a broadcast for that user only', async () => {
    const all = (await page(tokens.alice, '?limit=100')).items;
    const entry = all.find((i) => i.jobId === aliceEntries[5])!;
    const broadcast = all.find((i) => i.jobId === jobs.allAgencies)!;
    for (const item of [entry, broadcast]) {
      expect((await call(tokens.alice, 'DELETE', `/v1/me/notifications/${item.id}`)).status).toBe(204);
      expect((await call(tokens.alice, 'DELETE', `/v1/me/notifications/${item.id}`)).status).toBe(404);
      expect((await call(tokens.alice, 'POST', `/v1/me/notifications/${item.id}/read`)).status).toBe(404);
    }
    const after = await walk(tokens.alice, 9);
    expect(after.items).toHaveLength(30);
    expect(after.items.map((i) => i.id)).not.toContain(entry.id);
    expect(after.items.map((i) => i.id)).not.toContain(broadcast.id);
    expectOrdered(after.items);
    expect((await page(tokens.bob, '?limit=100')).items.map((i) => i.jobId)).toContain(jobs.allAgencies);
  });

  it('marks everything read at once, for the caller only', async () => {
    const res = await call(tokens.alice, 'POST', '/v1/me/notifications/read-all');
    // 32 items, 2 deleted, 2 already read.
    expect(res).toMatchObject({ status: 200, body: { marked: 28 } });
    expect((await page(tokens.alice, '?unread=true')).items).toEqual([]);
    expect((await page(tokens.alice, '?unread=1&limit=100')).nextCursor).toBeNull();
    expect((await call(tokens.alice, 'POST', '/v1/me/notifications/read-all')).body).toEqual({ marked: 0 });
    // The deleted broadcast stays deleted; Bob's inbox is untouched.
    expect((await page(tokens.alice, '?limit=100')).items).toHaveLength(30);
    expect((await page(tokens.bob, '?limit=100')).items.every((i) => !i.read)).toBe(true);
  });

  it('refuses a bad cursor or limit (400 naming the field) and callers who are not customers (403)', async () => {
    for (const cursor of ['not-a-cursor', Buffer.from('12:x').toString('base64url'), '%%%']) {
      const res = await call(tokens.alice, 'GET', `/v1/me/notifications?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toEqual(['query.cursor']);
    }
    const limit = await call(tokens.alice, 'GET', '/v1/me/notifications?limit=101');
    expect(limit.status).toBe(400);
    expect(limit.body.fields.map((f: { path: string }) => f.path)).toEqual(['query.limit']);
    expect((await call(tokens.alice, 'GET', '/v1/me/notifications?unread=maybe')).status).toBe(400);
    expect((await call(tokens.agent, 'GET', '/v1/me/notifications')).status).toBe(403);
    expect((await fetch(`${node.apiUrl}/v1/me/notifications`)).status).toBe(401);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${node.apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/me/notifications'] ?? {})).toContain('get');
    expect(Object.keys(doc.paths['/v1/me/notifications/{id}'] ?? {})).toContain('delete');
  });
});
