// Reference data through a whole node (role api) on the real PostgreSQL: the reads for every role with their
// Cache-Control and a 304 on the ETag; every edit refused to customers and agents (403, nothing written); each admin
// edit with its reference_audit row, and failed edits leaving neither; agencies and request types refused deletion
// while named (409) and withdrawn instead; the tariff bands kept contiguous (409 naming the fields); a notification
// type's queue changed while jobs are in flight (they keep theirs, the reply warns, new jobs get the new one); each
// bad field named in the 400.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { insertCustomer, insertLink, insertStaff, type TestUser } from '../support/meter-links.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
let customer: TestUser;
let agent: TestUser;
let admin: TestUser;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

async function call(method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${node.apiUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function auditRows(entity: string, key: string): Promise<Record<string, any>[]> {
  const { rows } = await sql.query(`SELECT actor_id, entity, entity_key, action, before, after, at FROM reference_audit WHERE entity = $1 AND entity_key = $2 ORDER BY id`, [entity, key]);
  return rows;
}
const auditCount = async () => Number((await sql.query(`SELECT count(*) AS n FROM reference_audit`)).rows[0].n);

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  await sql.query(`INSERT INTO agencies (code, name) VALUES ('DAKAR-PLATEAU', 'Dakar Plateau'), ('THIES', 'Thiès')`);
  node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: undefined, ROLE: 'api' });
  await waitFor('ready', () => node.runtime.readiness('api').ready);
  customer = await insertCustomer(sql, '+221779920001');
  agent = await insertStaff(sql, 'agent', 'DAKAR-PLATEAU');
  admin = await insertStaff(sql, 'admin', null);
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await db?.drop();
});

const READS = ['/v1/agencies', '/v1/tariff-thresholds', '/v1/tariff-thresholds?tariff=DPP', '/v1/notification-types', '/v1/request-types'];

describe('reference reads', () => {
  it('answers every signed-in role, with a Cache-Control for reference data, and nobody unsigned', async () => {
    for (const path of READS) {
      for (const who of [customer, agent, admin]) {
        const r = await call('GET', path, who.token);
        expect(r.status, path).toBe(200);
        expect(Array.isArray(r.body)).toBe(true);
        expect(r.headers.get('cache-control')).toBe('private, max-age=60');
      }
      expect((await call('GET', path, undefined)).status).toBe(401);
    }
    const dpp = (await call('GET', '/v1/tariff-thresholds?tariff=DPP', customer.token)).body;
    expect(dpp).toEqual([
      expect.objectContaining({ tariff: 'DPP', band: 1, kwhMin: 0, kwhMax: 150, colour: '#2E7D32' }),
      expect.objectContaining({ tariff: 'DPP', band: 2, kwhMin: 150, kwhMax: 250 }),
      expect.objectContaining({ tariff: 'DPP', band: 3, kwhMin: 250, kwhMax: null }),
    ]);
    expect((await call('GET', '/v1/request-types', customer.token)).body.map((t: any) => t.code)).toContain('meter_problem');
  });

  it('answers 304 without a body when the client holds the ETag', async () => {
    const first = await call('GET', '/v1/agencies', customer.token);
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^W\/"/);
    const res = await fetch(`${node.apiUrl}/v1/agencies`, { headers: { authorization: `Bearer ${customer.token}`, 'if-none-match': tag! } });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe('');
  });

  it('lists withdrawn rows for admins asking for all, and refuses `all` to customers and agents', async () => {
    expect((await call('POST', '/v1/agencies', admin.token, { code: 'OLD-AGENCY', name: 'Ancienne agence' })).status).toBe(201);
    expect((await call('PUT', '/v1/agencies/OLD-AGENCY', admin.token, { name: 'Ancienne agence', active: false })).status).toBe(200);
    expect((await call('PUT', '/v1/request-types/other', admin.token, { label: 'Autre demande', needsMeter: false, active: false })).status).toBe(200);
    const codes = async (path: string, who: TestUser) => ((await call('GET', path, who.token)).body as any[]).map((a) => a.code);
    expect(await codes('/v1/agencies', customer)).not.toContain('OLD-AGENCY');
    expect(await codes('/v1/agencies?all=true', admin)).toContain('OLD-AGENCY');
    expect(await codes('/v1/request-types', agent)).not.toContain('other');
    expect(await codes('/v1/request-types?all=true', admin)).toContain('other');
    expect((await call('GET', '/v1/agencies?all=true', admin.token)).headers.get('cache-control')).toBe('private, no-cache');
    for (const who of [customer, agent]) {
      for (const path of ['/v1/agencies?all=true', '/v1/request-types?all=true']) {
        const r = await call('GET', path, who.token);
        expect(r.status).toBe(403);
        expect(r.body.code).toBe('FORBIDDEN');
      }
    }
  });
});

const EDITS: readonly [string, string, unknown][] = [
  ['POST', '/v1/agencies', { code: 'KAOLACK', name: 'Kaolack' }],
  ['PUT', '/v1/agencies/THIES', { name: 'Thiès', active: false }],
  ['DELETE', '/v1/agencies/THIES', undefined],
  ['PUT', '/v1/tariff-thresholds/DPP/4', { kwhMin: 400, kwhMax: null, colour: '#000000' }],
  ['DELETE', '/v1/tariff-thresholds/DPP/3', undefined],
  ['PUT', '/v1/notification-types/outage', { label: 'Coupure', queue: 'urgent', ttlSeconds: 3600, collapseKey: 'outage' }],
  ['POST', '/v1/request-types', { code: 'meter_move', label: 'Déplacement de compteur', needsMeter: true }],
  ['PUT', '/v1/request-types/other', { label: 'Autre', needsMeter: false, active: true }],
  ['DELETE', '/v1/request-types/other', undefined],
];

describe('reference edits', () => {
  it('refuses every edit to customers and agents with 403 FORBIDDEN, writing nothing', async () => {
    const before = await auditCount();
    for (const [method, path, body] of EDITS) {
      for (const who of [customer, agent]) {
        const r = await call(method, path, who.token, body);
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(r.body.code).toBe('FORBIDDEN');
      }
    }
    expect(await auditCount()).toBe(before);
    expect((await sql.query(`SELECT 1 FROM agencies WHERE code = 'KAOLACK'`)).rowCount).toBe(0);
  });

  it("audits an admin's agency edits (who, when, what before and after) and shows them at the next read", async () => {
    const created = await call('POST', '/v1/agencies', admin.token, { code: 'KAOLACK', name: 'Kaolack' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: 'KAOLACK', name: 'Kaolack', active: true });
    expect((await call('GET', '/v1/agencies', customer.token)).body.map((a: any) => a.code)).toContain('KAOLACK');
    const renamed = await call('PUT', '/v1/agencies/KAOLACK', admin.token, { name: 'Kaolack Centre', active: false });
    expect(renamed.status).toBe(200);
    expect((await call('GET', '/v1/agencies', customer.token)).body.map((a: any) => a.code)).not.toContain('KAOLACK');
    expect((await call('DELETE', '/v1/agencies/KAOLACK', admin.token)).status).toBe(204);
    const audit = await auditRows('agency', 'KAOLACK');
    expect(audit.map((a) => a.action)).toEqual(['create', 'update', 'delete']);
    expect(audit.every((a) => a.actor_id === admin.id && a.at instanceof Date)).toBe(true);
    expect(audit[0]).toMatchObject({ before: null, after: { code: 'KAOLACK', name: 'Kaolack', active: true } });
    expect(audit[1]).toMatchObject({ before: { name: 'Kaolack' }, after: { name: 'Kaolack Centre', active: false } });
    expect(audit[2]).toMatchObject({ before: { name: 'Kaolack Centre' }, after: null });
    expect((await call('POST', '/v1/agencies', admin.token, { code: 'DAKAR-PLATEAU', name: 'Again' })).body.code).toBe('AGENCY_EXISTS');
    expect((await call('PUT', '/v1/agencies/NOWHERE', admin.token, { name: 'X', active: true })).status).toBe(404);
  });

  it('refuses to delete an agency users, links or requests name (409 AGENCY_IN_USE), leaving it and no audit row; it is withdrawn instead', async () => {
    const named = async (code: string, how: (code: string) => Promise<unknown>) => {
      await sql.query(`INSERT INTO agencies (code, name) VALUES ($1, $1)`, [code]);
      await how(code);
      const r = await call('DELETE', `/v1/agencies/${code}`, admin.token);
      expect(r.status, code).toBe(409);
      expect(r.body.code).toBe('AGENCY_IN_USE');
      expect((await sql.query(`SELECT 1 FROM agencies WHERE code = $1`, [code])).rowCount).toBe(1);
      expect(await auditRows('agency', code)).toEqual([]);
    };
    await named('BY-USER', (code) => sql.query(`INSERT INTO users (id, ldap_login, role, agency_code, created_at) VALUES ($1, $2, 'agent', $3, now())`, [randomUUID(), `a-${code}`, code]));
    await named('BY-LINK', (code) => insertLink(sql, { userId: customer.id, kind: 'prepaid', meter: '14299200001', police: 'P200001', agency: code, owner: false, state: 'pending' }));
    await named('BY-REQUEST', (code) => insertRequest('complaint', code));
    const withdrawn = await call('PUT', '/v1/agencies/BY-LINK', admin.token, { name: 'BY-LINK', active: false });
    expect(withdrawn.body).toMatchObject({ code: 'BY-LINK', active: false });
  });

  it('answers 401 INVALID_REFRESH_TOKEN to an admin whose account is gone, leaving neither the change nor an audit row', async () => {
    // An admin token whose user row does not exist: the audit's foreign key fails after the UPDATE ran.
    const ghost = await mintToken({ role: 'admin', sub: randomUUID(), agency: null });
    const before = await auditCount();
    const r = await call('PUT', '/v1/agencies/DAKAR-PLATEAU', ghost, { name: 'Renamed by a ghost', active: false });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await sql.query(`SELECT name, active FROM agencies WHERE code = 'DAKAR-PLATEAU'`)).rows[0]).toEqual({ name: 'Dakar Plateau', active: true });
    expect(await auditCount()).toBe(before);
  });
});

async function insertRequest(type: string, agency: string): Promise<void> {
  await sql.query(
    `INSERT INTO requests (id, author_id, type, agency_code, comment, created_at, updated_at) VALUES ($1, $2, $3, $4, 'test', now(), now())`,
    [randomUUID(), customer.id, type, agency],
  );
}

describe('tariff thresholds', () => {
  const put = (tariff: string, band: number, body: unknown) => call('PUT', `/v1/tariff-thresholds/${tariff}/${band}`, admin.token, body);

  it('refuses an overlap, a gap, an open band below another and a middle deletion (409 naming the fields), writing nothing', async () => {
    const before = await auditCount();
    const overlap = await put('DPP', 2, { kwhMin: 150, kwhMax: 300, colour: '#F9A825' });
    expect(overlap.status).toBe(409);
    expect(overlap.body.code).toBe('TARIFF_BANDS_CONFLICT');
    expect(overlap.body.fields).toEqual([{ path: 'body.kwhMax', message: 'band 3 starts at 250 kWh: it overlaps band 2, which ends at 300 kWh' }]);
    const low = await put('DPP', 3, { kwhMin: 200, kwhMax: null, colour: '#C62828' });
    expect(low.body.fields.map((f: any) => f.path)).toEqual(['body.kwhMin']);
    const gap = await put('DPP', 5, { kwhMin: 400, kwhMax: null, colour: '#000000' });
    expect(gap.body.fields.map((f: any) => f.path)).toContain('params.band');
    const open = await put('DPP', 2, { kwhMin: 150, kwhMax: null, colour: '#F9A825' });
    expect(open.body.fields.map((f: any) => f.path)).toEqual(['body.kwhMax']);
    const middle = await call('DELETE', '/v1/tariff-thresholds/DPP/2', admin.token);
    expect(middle.status).toBe(409);
    expect(middle.body.fields[0].path).toBe('params.band');
    expect(await auditCount()).toBe(before);
    expect((await sql.query(`SELECT count(*)::int AS n FROM tariff_thresholds WHERE tariff = 'DPP'`)).rows[0].n).toBe(3);
  });

  it('moves a boundary by deleting the top band and putting the bands again, each step audited and read back', async () => {
    expect((await call('DELETE', '/v1/tariff-thresholds/DMP/3', admin.token)).status).toBe(204);
    const replaced = await put('DMP', 2, { kwhMin: 150, kwhMax: 300, colour: '#ffaa00' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ tariff: 'DMP', band: 2, kwhMin: 150, kwhMax: 300, colour: '#FFAA00' });
    expect((await put('DMP', 3, { kwhMin: 300, kwhMax: null, colour: '#C62828' })).status).toBe(201);
    expect((await put('PRO', 1, { kwhMin: 0, kwhMax: null, colour: '#123456' })).status).toBe(201);
    const dmp = (await call('GET', '/v1/tariff-thresholds?tariff=DMP', customer.token)).body;
    expect(dmp.map((b: any) => [b.kwhMin, b.kwhMax])).toEqual([[0, 150], [150, 300], [300, null]]);
    expect((await auditRows('tariff_threshold', 'DMP/3')).map((a) => a.action)).toEqual(['delete', 'create']);
    expect((await auditRows('tariff_threshold', 'DMP/2'))[0]).toMatchObject({ action: 'update', before: { kwhMax: 250 }, after: { kwhMax: 300, colour: '#FFAA00' } });
    expect((await call('DELETE', '/v1/tariff-thresholds/DMP/7', admin.token)).body.code).toBe('TARIFF_BAND_NOT_FOUND');
  });
});

describe('notification types', () => {
  async function insertJob(state: string, type = 'planned_works', queue = 'low_priority'): Promise<string> {
    const id = randomUUID();
    await sql.query(
      `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, state, created_at, updated_at)
       VALUES ($1, $2, 'admin', '{"kind":"everyone"}', $4, $5, 't', 'b', '\\x00', $3, now(), now())`,
      [id, admin.id, state, type, queue],
    );
    return id;
  }

  it('creates a type (201) and replaces one (200), audited', async () => {
    const body = { label: 'Relevé de compteur', queue: 'normal', ttlSeconds: 86_400, collapseKey: 'meter_reading' };
    const created = await call('PUT', '/v1/notification-types/meter_reading', admin.token, body);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ code: 'meter_reading', ...body, warnings: [] });
    const replaced = await call('PUT', '/v1/notification-types/meter_reading', admin.token, { ...body, label: 'Relevé', collapseKey: null });
    expect(replaced.status).toBe(200);
    expect((await call('GET', '/v1/notification-types', customer.token)).body).toContainEqual({ code: 'meter_reading', ...body, label: 'Relevé', collapseKey: null });
    const audit = await auditRows('notification_type', 'meter_reading');
    expect(audit.map((a) => [a.action, a.before?.label ?? null, a.after.label])).toEqual([
      ['create', null, 'Relevé de compteur'],
      ['update', 'Relevé de compteur', 'Relevé'],
    ]);
  });

  it('moves a type to another queue for new jobs only, warning of the jobs in flight, which keep theirs', async () => {
    const inFlight = [await insertJob('accepted'), await insertJob('fanning_out'), await insertJob('sending')];
    await insertJob('done');
    await insertJob('failed');
    const r = await call('PUT', '/v1/notification-types/planned_works', admin.token, { label: 'Travaux programmés', queue: 'normal', ttlSeconds: 604_800, collapseKey: null });
    expect(r.status).toBe(200);
    expect(r.body.queue).toBe('normal');
    expect(r.body.warnings).toEqual([
      expect.objectContaining({ code: 'JOBS_IN_FLIGHT_KEEP_QUEUE', inFlightJobs: 3, previousQueue: 'low_priority', message: expect.stringMatching(/3 job\(s\) of type planned_works are in flight: they keep the queue low_priority/) }),
    ]);
    const { rows } = await sql.query(`SELECT DISTINCT queue FROM notification_jobs WHERE id = ANY($1)`, [inFlight]);
    expect(rows).toEqual([{ queue: 'low_priority' }]);
    // A new job of the type takes the new queue.
    const job = await call('POST', '/v1/notifications', admin.token, { target: { kind: 'everyone' }, type: 'planned_works', title: 'Travaux', body: 'Demain 9h-12h' });
    expect(job.status).toBe(202);
    expect((await sql.query(`SELECT queue FROM notification_jobs WHERE id = $1`, [job.body.jobId])).rows[0].queue).toBe('normal');
    // The same queue again: nothing moves, no warning.
    const again = await call('PUT', '/v1/notification-types/planned_works', admin.token, { label: 'Travaux programmés', queue: 'normal', ttlSeconds: 604_800, collapseKey: null });
    expect(again.body.warnings).toEqual([]);
  });

  it('audits one create and one update when two first PUTs of a new code race', async () => {
    const body = { label: 'Coupure imprévue', queue: 'urgent', ttlSeconds: 3_600, collapseKey: null };
    // The test holds the table in EXCLUSIVE mode (which blocks FOR NO KEY UPDATE, not plain reads) until both edits
    // wait: without a lock of their own both would then read "no row" together and both audit a create.
    const holder = await sql.connect();
    let puts: Promise<{ status: number; body: any }>[] = [];
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE notification_types IN EXCLUSIVE MODE');
      puts = [0, 1].map(() => call('PUT', '/v1/notification-types/sudden_outage', admin.token, body));
      await waitFor('both edits waiting', async () => {
        const { rows } = await sql.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()`);
        return rows[0].n >= 2;
      });
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    const statuses = (await Promise.all(puts)).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 201]);
    expect((await auditRows('notification_type', 'sudden_outage')).map((a) => [a.action, a.before === null])).toEqual([
      ['create', true],
      ['update', false],
    ]);
  });

  it('warns that jobs in flight may keep the previous TTL and collapse key (workers read them once per job)', async () => {
    const tariffNews = { label: 'Tariff news', queue: 'low_priority', ttlSeconds: 604_800, collapseKey: null };
    const put = (body: object) => call('PUT', '/v1/notification-types/tariff_news', admin.token, { ...tariffNews, ...body });
    // No job in flight: nothing to warn of.
    expect((await put({ ttlSeconds: 86_400 })).body.warnings).toEqual([]);
    await insertJob('sending', 'tariff_news');
    await insertJob('accepted', 'tariff_news');
    await insertJob('done', 'tariff_news');
    const r = await put({ ttlSeconds: 3_600, collapseKey: 'tariff_news' });
    expect(r.status).toBe(200);
    expect(r.body.warnings).toEqual([
      {
        code: 'JOBS_IN_FLIGHT_MAY_KEEP_SETTINGS',
        inFlightJobs: 2,
        changed: ['ttlSeconds', 'collapseKey'],
        message: expect.stringMatching(/2 job\(s\) of type tariff_news are in flight: a worker that has already read one keeps its previous TTL and collapse key/),
      },
    ]);
    // The queue and the collapse key at once: both warnings; the label alone: none.
    const both = await put({ queue: 'normal', ttlSeconds: 3_600, collapseKey: null });
    expect(both.body.warnings.map((w: any) => [w.code, w.changed ?? w.previousQueue])).toEqual([
      ['JOBS_IN_FLIGHT_KEEP_QUEUE', 'low_priority'],
      ['JOBS_IN_FLIGHT_MAY_KEEP_SETTINGS', ['collapseKey']],
    ]);
    expect((await put({ queue: 'normal', ttlSeconds: 3_600, label: 'Nouveaux tarifs' })).body.warnings).toEqual([]);
  });
});

describe('request types', () => {
  it('creates, withdraws and deletes a type, audited; refuses to delete one requests use (409), withdrawing it instead', async () => {
    const created = await call('POST', '/v1/request-types', admin.token, { code: 'meter_move', label: 'Déplacement de compteur', needsMeter: true });
    expect(created.status).toBe(201);
    expect((await call('GET', '/v1/request-types', customer.token)).body.map((t: any) => t.code)).toContain('meter_move');
    expect((await call('PUT', '/v1/request-types/meter_move', admin.token, { label: 'Déplacement', needsMeter: true, active: false })).body.active).toBe(false);
    expect((await call('GET', '/v1/request-types', customer.token)).body.map((t: any) => t.code)).not.toContain('meter_move');
    expect((await call('DELETE', '/v1/request-types/meter_move', admin.token)).status).toBe(204);
    expect((await auditRows('request_type', 'meter_move')).map((a) => a.action)).toEqual(['create', 'update', 'delete']);
    await insertRequest('name_change', 'DAKAR-PLATEAU');
    const used = await call('DELETE', '/v1/request-types/name_change', admin.token);
    expect(used.status).toBe(409);
    expect(used.body.code).toBe('REQUEST_TYPE_IN_USE');
    expect(await auditRows('request_type', 'name_change')).toEqual([]);
    expect((await call('POST', '/v1/request-types', admin.token, { code: 'complaint', label: 'x', needsMeter: false })).body.code).toBe('REQUEST_TYPE_EXISTS');
    expect((await call('DELETE', '/v1/request-types/nothing_here', admin.token)).body.code).toBe('REQUEST_TYPE_NOT_FOUND');
  });
});

describe('validation at the edge', () => {
  const fieldsOf = async (method: string, path: string, body: unknown) => {
    const r = await call(method, path, admin.token, body);
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    return (r.body.fields as { path: string }[]).map((f) => f.path).sort();
  };

  it('names each bad field', async () => {
    expect(await fieldsOf('POST', '/v1/agencies', { code: 'dakar plateau', name: '   ' })).toEqual(['body.code', 'body.name']);
    expect(await fieldsOf('PUT', '/v1/agencies/THIES', { name: 'x'.repeat(101) })).toEqual(['body.active', 'body.name']);
    expect(await fieldsOf('PUT', '/v1/tariff-thresholds/dpp/0', { kwhMin: -1, kwhMax: 1.005, colour: 'red' })).toEqual(['body.colour', 'body.kwhMax', 'body.kwhMin', 'params.band', 'params.tariff']);
    expect(await fieldsOf('PUT', '/v1/tariff-thresholds/DPP/1', { kwhMin: 100, kwhMax: 50, colour: '#FFFFFF' })).toEqual(['body.kwhMax']);
    expect(await fieldsOf('PUT', '/v1/notification-types/Outage', { label: 'a\u0000b', queue: 'fast', ttlSeconds: 10, collapseKey: 'Bad Key' })).toEqual([
      'body.collapseKey',
      'body.label',
      'body.queue',
      'body.ttlSeconds',
      'params.code',
    ]);
    expect(await fieldsOf('POST', '/v1/request-types', { code: '9lives', label: '', needsMeter: 'yes' })).toEqual(['body.code', 'body.label', 'body.needsMeter']);
    expect((await call('GET', '/v1/tariff-thresholds?tariff=d%20p', customer.token)).body.fields.map((f: any) => f.path)).toEqual(['query.tariff']);
    expect((await call('GET', '/v1/agencies?all=yes', admin.token)).body.fields.map((f: any) => f.path)).toEqual(['query.all']);
  });
});
