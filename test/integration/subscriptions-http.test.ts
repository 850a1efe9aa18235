// GET /v1/subscriptions/:noticeNumber through a whole node, its bi_ods source in twin mode over seeded rows: the steps
// to the phone on file in any notation, one identical 404 for a wrong phone and an unknown number, 400s naming the
// field, the per-notice limit tripping across addresses while another number still answers, 304 on a matching ETag, OpenAPI.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP_LIMITS } from '../../src/adapters/cache/ip-limiter.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { insertTwinRows } from '../support/source-twin.js';
import { seedTwinRows } from '../support/source-twin-rows.js';
import { waitFor } from '../support/wait.js';

// Seeded by seedTwinRows: three steps of 400001234 for 77 123 45 67 (step 3 not done), one of 400009999.
const NOTICE = '400001234';
// Rows of their own for the limit test, so the other tests' requests never count towards its limit.
const PROBED = '400005555';
const OTHER = '400006666';

let db: TestDatabase;
let node: RunningNode;
let ipCounter = 0;

const get = async (path: string, headers: Record<string, string> = {}) => {
  // A new client address per request (one trusted proxy hop), so only the per-notice limit can trip.
  const res = await fetch(`${node.apiUrl}${path}`, { headers: { 'x-forwarded-for': `198.18.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
};
const lookup = (notice: string, phone: string, headers?: Record<string, string>) =>
  get(`/v1/subscriptions/${encodeURIComponent(notice)}?phone=${encodeURIComponent(phone)}`, headers);

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url, TRUSTED_PROXY_HOPS: '1' });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  // The node has migrated the database: the twin tables of migration 0014 exist.
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await seedTwinRows(pool);
  const step = (notice: string, code: number) => ({
    NUM_AVIS: notice, CODE_ETAPE: code, DESC_ETAPE: `Etape ${code}`, DATE_TERM: '20260110', HEURE_TERM: '093000', NUM_PARTENAIRE: '0001000002',
    PRENOM: 'Moussa', NOM: 'Fall', TELEPHONE: '+221 78 765 43 21', STATUT_AVIS: 'EN COURS', DT_DERNIERE_MAJ: new Date('2026-01-15T10:00:00Z'),
  });
  await insertTwinRows(pool, 'bi_ods."AVIS_ETAPES_HANA"', [step(PROBED, 1), step(OTHER, 1), step(OTHER, 2)]);
  await pool.end();
});
afterAll(async () => {
  await node?.stop();
  await db?.drop();
});

describe('GET /v1/subscriptions/:noticeNumber', () => {
  it('answers the steps in CODE_ETAPE order to the phone on file, written +221…, 77… or 221…', async () => {
    for (const phone of ['+221771234567', '77 123 45 67', '221771234567']) {
      const res = await lookup(NOTICE, phone);
      expect(res.status, phone).toBe(200);
      expect(res.body).toEqual({
        noticeNumber: NOTICE,
        status: 'EN COURS',
        updatedAt: '2026-01-15T10:00:00.000Z',
        steps: [
          { step: 1, description: 'Etape 1', doneAt: '2026-01-10T09:30:00.000Z' },
          { step: 2, description: 'Etape 2', doneAt: '2026-01-15T00:00:00.000Z' },
          { step: 3, description: 'Etape 3', doneAt: null },
        ],
      });
    }
  });

  it('gives a wrong phone and an unknown number the identical 404', async () => {
    const wrongPhone = await lookup(NOTICE, '+221781112233');
    const unknown = await lookup('400000001', '+221771234567');
    for (const res of [wrongPhone, unknown]) {
      expect(res.status).toBe(404);
      expect(res.body?.code).toBe('SUBSCRIPTION_NOT_FOUND');
    }
    // Everything but the request id (which differs per request by design) is the same, byte for byte.
    const comparable = (body: Record<string, unknown> | undefined) => ({ ...body, requestId: undefined });
    expect(comparable(wrongPhone.body)).toEqual(comparable(unknown.body));
    expect(wrongPhone.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
  });

  it('answers 400 VALIDATION_FAILED naming the field for a missing or invalid phone or notice number', async () => {
    const cases: [string, string][] = [
      [`/v1/subscriptions/${NOTICE}`, 'query.phone'],
      [`/v1/subscriptions/${NOTICE}?phone=12`, 'query.phone'],
      [`/v1/subscriptions/${NOTICE}?phone=abc`, 'query.phone'],
      ['/v1/subscriptions/40000ABC?phone=771234567', 'params.noticeNumber'],
      ['/v1/subscriptions/123?phone=771234567', 'params.noticeNumber'],
      [`/v1/subscriptions/${'4'.repeat(21)}?phone=771234567`, 'params.noticeNumber'],
    ];
    for (const [path, field] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.body?.code, path).toBe('VALIDATION_FAILED');
      expect(res.body?.fields.map((f: { path: string }) => f.path), path).toContain(field);
    }
  });

  it('is documented in OpenAPI from the zod schemas: the path parameter and the required phone', async () => {
    const doc = (await get('/openapi.json')).body!;
    const op = doc.paths['/v1/subscriptions/{noticeNumber}']?.get;
    expect(op).toBeDefined();
    const params = (op.parameters as { name: string; in: string; required?: boolean }[]).map((p) => [p.in, p.name, p.required === true]);
    expect(params).toEqual(expect.arrayContaining([['path', 'noticeNumber', true], ['query', 'phone', true]]));
    expect(Object.keys(op.responses)).toContain('200');
  });

  it('answers 304 without a body to a matching If-None-Match', async () => {
    const first = await lookup(NOTICE, '771234567');
    expect(first.status).toBe(200);
    const tag = first.headers.get('etag');
    expect(tag).toBeTruthy();
    const again = await lookup(NOTICE, '771234567', { 'if-none-match': tag! });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('trips the per-notice limit (429, Retry-After) across different addresses while another number still answers', async () => {
    const { points } = IP_LIMITS['subscription-notice'];
    // Wrong phones count too: the limit is what stops probing a number for its phone.
    for (let i = 0; i < points; i++) expect((await lookup(PROBED, `+22178000${String(i).padStart(4, '0')}`)).status).toBe(404);
    const tripped = await lookup(PROBED, '+221787654321');
    expect(tripped.status).toBe(429);
    expect(tripped.body?.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(tripped.headers.get('retry-after'))).toBeGreaterThan(0);
    const other = await lookup(OTHER, '78 765 43 21');
    expect(other.status).toBe(200);
    expect(other.body?.steps.map((s: { step: number }) => s.step)).toEqual([1, 2]);
  });
});
