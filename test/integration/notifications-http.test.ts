// POST/GET /v1/notifications through the whole node: who may send what, idempotency, the 4096-byte limit,
// and the job reaching the broker through the outbox (the in-process broker here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let node: RunningNode;
let agent: string;
let otherAgent: string;
let admin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await sql.query(`INSERT INTO agencies (code, name) VALUES ('DAKAR-PLATEAU', 'Dakar Plateau'), ('THIES', 'Thiès') ON CONFLICT DO NOTHING`);
  // Tokens name real users, as the login routes issue them.
  const user = async (login: string, role: string, agency: string | null) =>
    (await sql.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, agency_code, created_at) VALUES (gen_random_uuid(), $1, $2, $3, now()) RETURNING id`, [login, role, agency])).rows[0]!.id;
  agent = await mintToken({ role: 'agent', agency: 'DAKAR-PLATEAU', sub: await user('agent.a', 'agent', 'DAKAR-PLATEAU') });
  otherAgent = await mintToken({ role: 'agent', agency: 'THIES', sub: await user('agent.b', 'agent', 'THIES') });
  admin = await mintToken({ role: 'admin', sub: await user('admin.a', 'admin', null) });
  // Two customers of the agency: one with a device, one without (the inbox still gets the broadcast).
  await sql.query(
    `INSERT INTO users (id, phone, role, agency_code, phone_proved_at, created_at) VALUES
       ('00000000-0000-4000-8000-00000000c0a1', '+221771110001', 'customer', 'DAKAR-PLATEAU', now() - interval '1 day', now() - interval '1 day'),
       ('00000000-0000-4000-8000-00000000c0a2', '+221771110002', 'customer', 'DAKAR-PLATEAU', now() - interval '1 day', now() - interval '1 day')`,
  );
  await sql.query(
    `INSERT INTO device_sessions (id, user_id, family, device_model, platform, push_token, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
     VALUES (gen_random_uuid(), '00000000-0000-4000-8000-00000000c0a1', gen_random_uuid(), 'Phone', 'android', 'fcm-token-c0a1', '\\x01', now(), now() + interval '30 days', now(), now(), 'active')`,
  );
  await sql.end();
});
afterAll(async () => {
  await node?.stop();
  await db?.drop();
});

const send = async (token: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${node.apiUrl}/v1/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Record<string, any> };
};
const works = { target: { kind: 'agency', agency: 'DAKAR-PLATEAU' }, type: 'planned_works', title: 'Travaux', body: 'Coupure prévue demain de 9h à 12h.' };

describe('POST /v1/notifications', () => {
  it('accepts an agent notification to its agency (202), publishes it through the outbox, and shows its status', async () => {
    const res = await send(agent, works);
    expect(res.status).toBe(202);
    expect(res.location).toBe(`/v1/notifications/${res.body.jobId}`);
    await waitFor('published', async () => {
      const stats = await node.runtime.ask('outbox-relay', 'stats', {}, 1_000);
      return (stats as { published?: number }).published! >= 1;
    });
    const status = await fetch(`${node.apiUrl}${res.location}`, { headers: { authorization: `Bearer ${agent}` } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ queue: 'low_priority' });
    // Another agency cannot read it, not even by knowing the id.
    expect((await fetch(`${node.apiUrl}${res.location}`, { headers: { authorization: `Bearer ${otherAgent}` } })).status).toBe(404);
  });

  it('forbids an agent to send to everyone or to raise the priority; an admin may', async () => {
    expect(await send(agent, { ...works, target: { kind: 'everyone' } })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await send(agent, { ...works, priority: 'urgent' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect((await send(admin, { ...works, target: { kind: 'everyone' }, priority: 'urgent' })).status).toBe(202);
  });

  it('names the offending field of a bad body, including a push over 4096 bytes', async () => {
    const bad = await send(agent, { ...works, target: { kind: 'planet' } });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f: { path: string }) => f.path)).toContain('body.target.kind');
    const big = await send(agent, { ...works, body: 'é'.repeat(2_100) });
    expect(big.status).toBe(400);
    expect(big.body.fields.map((f: { path: string }) => f.path)).toContain('body.body');
  });

  // Moved from notification-jobs.test.ts with the check itself (the route's schema is the one validation point).
  it('refuses a push over 4096 bytes with a ValidationError naming the field, before writing anything', async () => {
    const count = async () => {
      const sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      try {
        return Number((await sql.query(`SELECT count(*) FROM notification_jobs`)).rows[0].count);
      } finally {
        await sql.end();
      }
    };
    const before = await count();
    expect(await send(admin, { ...works, body: 'é'.repeat(2_100) })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', fields: [{ path: 'body.body' }] } });
    expect(await send(admin, { ...works, data: { blob: 'x'.repeat(4_000) } })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', fields: [{ path: 'body.data' }] } });
    expect(await count()).toBe(before);
  });

  it('returns the same job for the same idempotency key and body, and 409 for another body', async () => {
    const first = await send(agent, works, { 'idempotency-key': 'campaign-2026-11-25' });
    const again = await send(agent, works, { 'idempotency-key': 'campaign-2026-11-25' });
    expect(again).toMatchObject({ status: 202, body: { jobId: first.body.jobId } });
    const other = await send(agent, { ...works, title: 'Autre' }, { 'idempotency-key': 'campaign-2026-11-25' });
    expect(other).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
  });
});

describe('dispatch in one process (in-process broker, sandbox FCM)', () => {
  it('delivers an agency notification to every device of the agency and counts it on the job', async () => {
    const res = await send(agent, { ...works, title: 'Coupure', body: 'Coupure programmée.' });
    expect(res.status).toBe(202);
    const status = await waitFor('sent', async () => {
      const r = await fetch(`${node.apiUrl}${res.location}`, { headers: { authorization: `Bearer ${agent}` } });
      const body = (await r.json()) as { state: string; counts: { sent: number; targets: number } };
      return body.counts.sent >= 1 && body.state === 'done' ? body : undefined;
    });
    expect(status.counts).toMatchObject({ sent: 1, failed: 0 });
    // Every published token has its outcome and the fan-out is over: the job is done.
    expect(status.state).toBe('done');
  });
});
