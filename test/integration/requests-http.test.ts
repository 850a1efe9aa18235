// Customer requests without storage's part (issue 12) through a whole node on the real PostgreSQL, Redis and
// RabbitMQ: filing by link or agency, the type and agency rules, who reads what (the same 404 for anyone else), the
// list's scopes, status filter and cursor pages, the agency's changes with history and the author's inbox entry,
// and account deletion anonymising the author's requests.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { insertCustomer, insertLink, insertStaff, TEST_PIN, type TestUser } from '../support/meter-links.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { fieldsOf, fileRequest, insertAgencies } from '../support/requests.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let vhost: TestVhost;
let node: RunningNode;
let sql: pg.Pool;
let A: TestUser;
let B: TestUser;
let agentDakar: TestUser;
let agentThies: TestUser;
let admin: TestUser;
let linkA: string;
let linkB: string;

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${node.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

const api = (): string => node.apiUrl!;

/** An answer without its request id (each answer has its own), to compare two refusals. */
function problem(a: { status: number; body: Record<string, any> }): unknown {
  const { requestId: _id, ...rest } = a.body;
  return { status: a.status, body: rest };
}

beforeAll(async () => {
  db = await createTestDatabase();
  vhost = await createTestVhost();
  node = await startTestNode({ DATABASE_URL: db.url, AMQP_URL: vhost.url, REDIS_URL: servicesEnv().TEST_REDIS_URL });
  await waitFor('ready', () => node.runtime.readiness('test').ready, 30_000);
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  await insertAgencies(sql, ['DAKAR-PLATEAU', 'THIES']);
  await insertAgencies(sql, ['CLOSED'], false);
  A = await insertCustomer(sql, '+221779920001', 'Aminata');
  B = await insertCustomer(sql, '+221779920002', 'Binta');
  agentDakar = await insertStaff(sql, 'agent', 'DAKAR-PLATEAU');
  agentThies = await insertStaff(sql, 'agent', 'THIES');
  admin = await insertStaff(sql, 'admin', null);
  linkA = await insertLink(sql, { userId: A.id, kind: 'prepaid', meter: '14299200001', police: 'P200001', agency: 'DAKAR-PLATEAU' });
  linkB = await insertLink(sql, { userId: B.id, kind: 'prepaid', meter: '14299200002', police: 'P200002', agency: 'THIES' });
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await vhost?.delete();
  await db?.drop();
});

describe('filing a request', () => {
  it('files one about a meter: the link\'s agency handles it, the meter copied, the first history row written', async () => {
    const res = await fileRequest(api(), A.token, fieldsOf({ type: 'meter_problem', comment: ' No power since Monday. ', linkId: linkA }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'meter_problem', status: 'open', agency: 'DAKAR-PLATEAU', linkId: linkA, meter: '14299200001', meterKind: 'prepaid', comment: 'No power since Monday.', attachment: null, anonymised: false });
    expect(res.body.history).toEqual([{ at: res.body.createdAt, byRole: 'customer', byUser: null, fromStatus: null, toStatus: 'open', reply: null }]);
    expect((await sql.query(`SELECT author_id FROM requests WHERE id = $1`, [res.body.id])).rows).toEqual([{ author_id: A.id }]);
  });

  it('files one without a meter to the agency named', async () => {
    const res = await fileRequest(api(), A.token, fieldsOf({ type: 'new_connection', agency: 'THIES' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ agency: 'THIES', linkId: null, meter: null });
  });

  it('refuses a type about a meter without a link, an unknown type, a withdrawn or unknown agency', async () => {
    expect(await fileRequest(api(), A.token, fieldsOf({ type: 'meter_problem', agency: 'THIES' }))).toMatchObject({ status: 400, body: { code: 'REQUEST_NEEDS_METER' } });
    expect(await fileRequest(api(), A.token, fieldsOf({ type: 'no_such_type', agency: 'THIES' }))).toMatchObject({ status: 400, body: { code: 'REQUEST_TYPE_UNKNOWN' } });
    expect(await fileRequest(api(), A.token, fieldsOf({ type: 'complaint', agency: 'CLOSED' }))).toMatchObject({ status: 400, body: { code: 'REQUEST_AGENCY_UNKNOWN' } });
    expect(await fileRequest(api(), A.token, fieldsOf({ type: 'complaint', agency: 'NOWHERE' }))).toMatchObject({ status: 400, body: { code: 'REQUEST_AGENCY_UNKNOWN' } });
  });

  it('answers another customer\'s link, and a link not active, with the 404 of an unknown link', async () => {
    expect(await fileRequest(api(), A.token, fieldsOf({ type: 'meter_problem', linkId: linkB }))).toMatchObject({ status: 404, body: { code: 'METER_LINK_NOT_FOUND' } });
    const pending = await insertLink(sql, { userId: A.id, kind: 'prepaid', meter: '14299200009', police: 'P200009', agency: 'THIES', state: 'pending', owner: false });
    expect(await fileRequest(api(), A.token, fieldsOf({ type: 'meter_problem', linkId: pending }))).toMatchObject({ status: 404, body: { code: 'METER_LINK_NOT_FOUND' } });
  });

  it('validates the fields: both link and agency, neither, a missing comment, an unknown field', async () => {
    const both = await fileRequest(api(), A.token, fieldsOf({ type: 'complaint', agency: 'THIES', linkId: linkA }));
    expect(both).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await fileRequest(api(), A.token, fieldsOf({ type: 'complaint' }))).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const noComment = await fileRequest(api(), A.token, [{ name: 'type', value: 'complaint' }, { name: 'agency', value: 'THIES' }]);
    expect(noComment).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', detail: 'body.comment is required.' } });
    expect(await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), { name: 'extra', value: '1' }])).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  });

  it('refuses agents and admins (403), and a JSON body (415)', async () => {
    for (const staff of [agentDakar, admin]) expect(await fileRequest(api(), staff.token, fieldsOf({ type: 'complaint', agency: 'THIES' }))).toMatchObject({ status: 403 });
    expect(await call('POST', '/v1/requests', A.token, { type: 'complaint', comment: 'x', agency: 'THIES' })).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });
});

describe('reading requests', () => {
  it('shows a request to its author, its agency\'s agents and admins; anyone else gets the 404 of an unknown id', async () => {
    const { body: filed } = await fileRequest(api(), A.token, fieldsOf({ type: 'meter_problem', linkId: linkA }));
    for (const reader of [A, agentDakar, admin]) expect(await call('GET', `/v1/requests/${filed.id}`, reader.token)).toMatchObject({ status: 200, body: { id: filed.id } });
    const unknown = await call('GET', `/v1/requests/6f7c1f7e-2a51-4b59-9e57-3f6b2ad0c1e4`, B.token);
    expect(unknown).toMatchObject({ status: 404, body: { code: 'REQUEST_NOT_FOUND' } });
    for (const stranger of [B, agentThies]) {
      expect(problem(await call('GET', `/v1/requests/${filed.id}`, stranger.token))).toEqual(problem(unknown));
      expect(problem(await call('GET', `/v1/requests/${filed.id}/attachment`, stranger.token))).toEqual(problem(unknown));
    }
    // Readable, without a file: the attachment is its own 404.
    expect(await call('GET', `/v1/requests/${filed.id}/attachment`, A.token)).toMatchObject({ status: 404, body: { code: 'REQUEST_ATTACHMENT_NOT_FOUND' } });
  });

  it('lists by scope (own, agency, all), by status, newest first, in cursor pages', async () => {
    const own = (await call('GET', '/v1/requests?limit=100', A.token)).body.items as Record<string, any>[];
    const all = (await sql.query(`SELECT id, author_id, agency_code FROM requests ORDER BY created_at DESC, id DESC`)).rows;
    expect(own.map((r) => r.id)).toEqual(all.filter((r) => r.author_id === A.id).map((r) => r.id));
    const thies = (await call('GET', '/v1/requests?limit=100', agentThies.token)).body.items as Record<string, any>[];
    expect(thies.map((r) => r.id)).toEqual(all.filter((r) => r.agency_code === 'THIES').map((r) => r.id));
    expect((await call('GET', '/v1/requests?limit=100', B.token)).body.items).toEqual([]);
    // Pages of 1 through the admin's list give every request once, in order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Record<string, any> } = await call('GET', `/v1/requests?limit=1${cursor ? `&cursor=${cursor}` : ''}`, admin.token);
      seen.push(...(page.body.items as Record<string, any>[]).map((r) => r.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
    expect((await call('GET', '/v1/requests?status=resolved', admin.token)).body.items).toEqual([]);
    expect(await call('GET', '/v1/requests?cursor=not-ours', admin.token)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  });
});

describe('the agency\'s changes', () => {
  it('lets an agent of the agency change the status and reply, keeps each change, and notifies the author', async () => {
    const { body: filed } = await fileRequest(api(), A.token, fieldsOf({ type: 'meter_problem', linkId: linkA }));
    const first = await call('PATCH', `/v1/requests/${filed.id}`, agentDakar.token, { status: 'in_progress' });
    expect(first).toMatchObject({ status: 200, body: { status: 'in_progress', reply: null } });
    const second = await call('PATCH', `/v1/requests/${filed.id}`, admin.token, { status: 'resolved', reply: 'Meter replaced.' });
    expect(second.body).toMatchObject({ status: 'resolved', reply: 'Meter replaced.' });
    expect((second.body.history as Record<string, any>[]).map((h) => [h.byRole, h.byUser, h.fromStatus, h.toStatus, h.reply])).toEqual([
      ['customer', null, null, 'open', null],
      ['agent', agentDakar.id, 'open', 'in_progress', null],
      ['admin', admin.id, 'in_progress', 'resolved', 'Meter replaced.'],
    ]);
    // The author's inbox, once the notification went through the outbox, RabbitMQ and the dispatch.
    const entries = await waitFor('two request_status entries in A\'s inbox', async () => {
      const items = ((await call('GET', '/v1/me/notifications?limit=100', A.token)).body.items as Record<string, any>[]).filter((i) => i.type === 'request_status' && i.data.requestId === filed.id);
      return items.length === 2 ? items : false;
    }, 30_000);
    expect(entries.map((e) => e.data.status).sort()).toEqual(['in_progress', 'resolved']);
  });

  it('refuses a customer (403, even the author) and answers an agent of another agency with the 404 of an unknown id', async () => {
    const { body: filed } = await fileRequest(api(), A.token, fieldsOf({ type: 'meter_problem', linkId: linkA }));
    expect(await call('PATCH', `/v1/requests/${filed.id}`, A.token, { status: 'resolved' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const unknown = await call('PATCH', `/v1/requests/6f7c1f7e-2a51-4b59-9e57-3f6b2ad0c1e4`, agentThies.token, { status: 'resolved' });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'REQUEST_NOT_FOUND' } });
    expect(problem(await call('PATCH', `/v1/requests/${filed.id}`, agentThies.token, { status: 'resolved' }))).toEqual(problem(unknown));
    expect(await call('PATCH', `/v1/requests/${filed.id}`, agentDakar.token, {})).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect((await sql.query(`SELECT status FROM requests WHERE id = $1`, [filed.id])).rows).toEqual([{ status: 'open' }]);
  });
});

describe('account deletion', () => {
  it('anonymises the author\'s requests: no author, the comment cleared, still readable by the agency', async () => {
    const C = await insertCustomer(sql, '+221779920003', 'Cheikh');
    const { body: filed } = await fileRequest(api(), C.token, fieldsOf({ type: 'complaint', comment: 'My neighbour steals power', agency: 'THIES' }));
    expect(await call('DELETE', '/v1/me', C.token, { pin: TEST_PIN })).toMatchObject({ status: 204 });
    const { rows } = await sql.query(`SELECT author_id, comment, anonymised_at FROM requests WHERE id = $1`, [filed.id]);
    expect(rows[0]).toMatchObject({ author_id: null, comment: '' });
    expect(rows[0].anonymised_at).toBeInstanceOf(Date);
    expect(await call('GET', `/v1/requests/${filed.id}`, agentThies.token)).toMatchObject({ status: 200, body: { anonymised: true, comment: '' } });
  });
});
