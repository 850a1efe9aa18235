// Property test of the requests routes (POST /v1/requests as multipart, GET /v1/requests, GET and PATCH
// /v1/requests/{id}, GET /v1/requests/{id}/attachment) on the real PostgreSQL and s3rver through the objects actor:
// whatever caller, id, query, JSON body or multipart body (random boundaries, parts missing, repeated, out of order,
// oversized, files of any content, the closing boundary cut, another media type) a client sends, the answer is
// never a 5xx, every 4xx is a problem+json whose code has that status, a 2xx matches the declared schema, and exactly
// the requests the route's own auth and schemas accept reach the requests actor (its handled count before and after).
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { UserRole } from '../../src/contracts/caller.js';
import {
  MULTIPART_FIELD_MAX_BYTES,
  attachmentLinkSchema,
  fileRequestFields,
  requestDetailSchema,
  requestListQuery,
  requestPageSchema,
  requestParams,
  updateRequestBody,
} from '../../src/contracts/requests-messages.js';
import { encodeRequestCursor } from '../../src/domain/request-cursor.js';
import type { RunningNode } from '../../src/node.js';
import { sampleFile } from '../support/attachments.js';
import { insertCustomer, insertLink, insertStaff, type TestUser } from '../support/meter-links.js';
import { multipartBody, type Part } from '../support/multipart-body.js';
import { actorNode, startTestNode } from '../support/node.js';
import { insertAgencies, storageRunning } from '../support/requests.js';
import { checkRates, checkRouteAnswer, newTally } from '../support/route-properties.js';
import { admitted, tokenOf as callerToken, whoCalls, type Who } from '../support/route-callers.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const SEED = Number(process.env.FC_SEED ?? 20261203);

const CUSTOMERS = 20;
const AGENCIES = ['DAKAR-PLATEAU', 'THIES', 'PIKINE'] as const;
const SEEDED_REQUESTS = 40;
const linkIdOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const requestIdOf = (i: number) => `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
const pools: Record<UserRole, TestUser[]> = { customer: [], agent: [], admin: [] };

function requestsHandled(): number {
  return actorNode(node, 'requests')!.stats.handled;
}

const who = (allowed: readonly UserRole[]): fc.Arbitrary<Who> => whoCalls(allowed, CUSTOMERS);
const tokenOf = (w: Who): string | undefined => callerToken(pools, w);

const anyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constantFrom('', ' ', '\u0000', "'; DROP TABLE requests; --"));
const requestId = fc.oneof(
  { weight: 4, arbitrary: fc.nat(SEEDED_REQUESTS - 1).map(requestIdOf) },
  { weight: 1, arbitrary: fc.uuid() },
  // Not '.' or '..': the client resolves those path segments before sending, so they never name a request.
  { weight: 2, arbitrary: fc.oneof(fc.string({ minLength: 1, maxLength: 80 }).filter((t) => t !== '.' && t !== '..'), fc.constantFrom('%', 'a/b', ' ', requestIdOf(1).toUpperCase())) },
);
const idValid = (id: string) => requestParams.safeParse({ id }).success;

// The multipart body: text fields and files in any order, with a corruption now and then.
const field = (name: string, values: fc.Arbitrary<string>) => values.map((value): Part => ({ name, value }));
const textField = fc.oneof(
  { weight: 4, arbitrary: field('type', fc.oneof({ weight: 4, arbitrary: fc.constantFrom('complaint', 'new_connection', 'meter_problem', 'other') }, { weight: 1, arbitrary: anyText })) },
  { weight: 4, arbitrary: field('comment', fc.oneof({ weight: 5, arbitrary: fc.constantFrom('No power since Monday.', 'Facture trop élevée') }, { weight: 1, arbitrary: anyText }, { weight: 1, arbitrary: fc.nat(12_000).map((n) => 'x'.repeat(n)) })) },
  { weight: 2, arbitrary: field('agency', fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...AGENCIES) }, { weight: 1, arbitrary: anyText })) },
  { weight: 2, arbitrary: field('linkId', fc.oneof({ weight: 4, arbitrary: fc.nat(CUSTOMERS - 1).map(linkIdOf) }, { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: anyText })) },
  { weight: 1, arbitrary: fc.record({ name: fc.stringMatching(/^[a-z]{1,12}$/), value: anyText }) },
);
const KINDS = ['jpeg', 'png', 'pdf', 'elf', 'pe'] as const;
const filePart = fc.record({
  name: fc.oneof({ weight: 8, arbitrary: fc.constant('file') }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{1,8}$/) }),
  filename: fc.constantFrom('photo.jpg', 'scan.pdf', 'x', 'setup.exe'),
  type: fc.constantFrom('image/jpeg', 'application/pdf', 'application/octet-stream'),
  data: fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom(...KINDS), bytes: fc.integer({ min: 1, max: 30_000 }) }).map(({ kind, bytes }) => sampleFile(kind, bytes)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
  ),
}).map((p): Part => p);
const basics = fc.record({ type: field('type', fc.constantFrom('complaint', 'new_connection', 'other')), comment: field('comment', fc.constant('Please call me back.')), agency: field('agency', fc.constantFrom(...AGENCIES)) });
const partsArb: fc.Arbitrary<Part[]> = fc.oneof(
  // Mostly a plausible form (the three fields, maybe a file last), so that many runs reach the actor.
  { weight: 3, arbitrary: fc.tuple(basics, fc.option(filePart, { nil: undefined })).map(([b, f]) => [b.type, b.comment, b.agency, ...(f ? [f] : [])]) },
  { weight: 2, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: textField }, { weight: 1, arbitrary: filePart }), { maxLength: 7 }) },
);
type Corruption = 'none' | 'no-closing' | 'no-boundary' | 'json' | 'garbage';
const multipartCase = fc.record({
  who: who(['customer']),
  parts: partsArb,
  boundary: fc.stringMatching(/^[A-Za-z0-9_-]{1,50}$/).map((b) => `b0undary${b}`),
  corruption: fc.oneof({ weight: 12, arbitrary: fc.constant<Corruption>('none') }, { weight: 1, arbitrary: fc.constantFrom<Corruption>('no-closing', 'no-boundary', 'json', 'garbage') }),
});
type MultipartCase = typeof multipartCase extends fc.Arbitrary<infer T> ? T : never;

/** Whether the handler sends the message: the parts before the first file must form valid fields, and the file be named `file`. */
function multipartReaches(c: MultipartCase): boolean {
  if (!admitted(c.who, ['customer']) || c.corruption === 'no-boundary' || c.corruption === 'json' || c.corruption === 'garbage') return false;
  const firstFile = c.parts.findIndex((p) => 'filename' in p);
  const before = (firstFile === -1 ? c.parts : c.parts.slice(0, firstFile)) as { name: string; value: string }[];
  if (before.length > 4 || new Set(before.map((p) => p.name)).size !== before.length) return false;
  if (before.some((p) => Buffer.byteLength(p.value) > MULTIPART_FIELD_MAX_BYTES)) return false;
  // Without a file the form is read to its end: a body cut short never reaches the actor.
  if (firstFile === -1 && c.corruption === 'no-closing') return false;
  if (firstFile !== -1 && c.parts[firstFile]!.name !== 'file') return false;
  const raw = Object.fromEntries(before.filter((p) => p.value !== '').map((p) => [p.name, p.value]));
  return fileRequestFields.safeParse(raw).success;
}

function multipartRequest(c: MultipartCase): { body: Buffer; contentType: string } {
  const { body, contentType } = multipartBody(c.parts, c.boundary);
  switch (c.corruption) {
    case 'none':
      return { body, contentType };
    case 'no-closing':
      return { body: body.subarray(0, body.length - `--${c.boundary}--\r\n`.length), contentType };
    case 'no-boundary':
      return { body, contentType: 'multipart/form-data' };
    case 'json':
      return { body: Buffer.from('{"type":"complaint"}'), contentType: 'application/json' };
    case 'garbage':
      return { body: Buffer.from('--nothing here\r\n'), contentType };
  }
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly body?: { readonly data: Buffer | string; readonly contentType: string };
}
interface RouteCase<C> {
  readonly name: string;
  readonly cases: fc.Arbitrary<C>;
  readonly request: (c: C) => Request;
  readonly valid: (c: C) => boolean;
  readonly ok: { readonly status: number; readonly schema: z.ZodType };
}
const route = <C>(r: RouteCase<C>): RouteCase<C> => r;
const READERS: readonly UserRole[] = ['customer', 'agent', 'admin'];
const STAFF: readonly UserRole[] = ['agent', 'admin'];
const sometimes = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
const statusParam = sometimes(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('open', 'in_progress', 'resolved', 'rejected') }, { weight: 1, arbitrary: anyText }));
const limitParam = sometimes(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 100 }).map(String) }, { weight: 1, arbitrary: fc.oneof(anyText, fc.constantFrom('0', '101', '-1', '1.5', '1e2')) }));
const cursorParam = sometimes(fc.oneof({ weight: 2, arbitrary: fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 17n }), fc.uuid()).map(([m, id]) => encodeRequestCursor({ atMicros: m.toString(), id })) }, { weight: 1, arbitrary: anyText }));

const ROUTES = [
  route({
    name: 'POST /v1/requests',
    cases: multipartCase,
    request: (c) => {
      const { body, contentType } = multipartRequest(c);
      return { method: 'POST', path: '/v1/requests', token: tokenOf(c.who), body: { data: body, contentType } };
    },
    valid: multipartReaches,
    ok: { status: 201, schema: requestDetailSchema },
  }),
  route({
    name: 'GET /v1/requests',
    cases: fc.record({ who: who(READERS), status: statusParam, limit: limitParam, cursor: cursorParam }),
    request: (c) => {
      const q = new URLSearchParams();
      for (const k of ['status', 'limit', 'cursor'] as const) if (c[k] !== undefined) q.set(k, c[k]);
      return { method: 'GET', path: `/v1/requests?${q}`, token: tokenOf(c.who) };
    },
    valid: (c) => admitted(c.who, READERS) && requestListQuery.safeParse(Object.fromEntries(Object.entries({ status: c.status, limit: c.limit, cursor: c.cursor }).filter(([, v]) => v !== undefined))).success,
    ok: { status: 200, schema: requestPageSchema },
  }),
  route({
    name: 'GET /v1/requests/:id',
    cases: fc.record({ who: who(READERS), id: requestId }),
    request: (c) => ({ method: 'GET', path: `/v1/requests/${encodeURIComponent(c.id)}`, token: tokenOf(c.who) }),
    valid: (c) => admitted(c.who, READERS) && idValid(c.id),
    ok: { status: 200, schema: requestDetailSchema },
  }),
  route({
    name: 'PATCH /v1/requests/:id',
    cases: fc.record({
      who: who(STAFF),
      id: requestId,
      body: fc.oneof(
        { weight: 5, arbitrary: fc.record({ status: fc.constantFrom('open', 'in_progress', 'resolved', 'rejected'), reply: fc.constantFrom('On our way.', 'Done.') }, { requiredKeys: [] }).map((j) => JSON.stringify(j)) },
        { weight: 1, arbitrary: fc.jsonValue().map((j) => JSON.stringify(j)) },
        { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
      ),
    }),
    request: (c) => ({ method: 'PATCH', path: `/v1/requests/${encodeURIComponent(c.id)}`, token: tokenOf(c.who), body: { data: c.body, contentType: 'application/json' } }),
    valid: (c) => {
      let json: unknown;
      try {
        json = JSON.parse(c.body);
      } catch {
        return false;
      }
      return admitted(c.who, STAFF) && idValid(c.id) && updateRequestBody.safeParse(json).success;
    },
    ok: { status: 200, schema: requestDetailSchema },
  }),
  route({
    name: 'GET /v1/requests/:id/attachment',
    cases: fc.record({ who: who(READERS), id: requestId }),
    request: (c) => ({ method: 'GET', path: `/v1/requests/${encodeURIComponent(c.id)}/attachment`, token: tokenOf(c.who) }),
    valid: (c) => admitted(c.who, READERS) && idValid(c.id),
    ok: { status: 200, schema: attachmentLinkSchema },
  }),
] as RouteCase<unknown>[];

async function seed(): Promise<void> {
  await insertAgencies(sql, AGENCIES);
  for (let i = 0; i < CUSTOMERS; i++) pools.customer.push(await insertCustomer(sql, `+2217799${String(i).padStart(4, '0')}`, `C${i}`));
  for (const agency of AGENCIES) pools.agent.push(await insertStaff(sql, 'agent', agency));
  pools.admin.push(await insertStaff(sql, 'admin', null));
  const agencyOf = (j: number) => AGENCIES[j % AGENCIES.length]!;
  for (let i = 0; i < CUSTOMERS; i++) {
    await insertLink(sql, { id: linkIdOf(i), userId: pools.customer[i]!.id, kind: 'prepaid', meter: `14277${String(i).padStart(6, '0')}`, police: `P${i}`, agency: agencyOf(i) });
  }
  // Requests of customers i % CUSTOMERS; the first CUSTOMERS get an attachment stored through the API below.
  for (let i = 0; i < SEEDED_REQUESTS; i++) {
    await sql.query(
      `INSERT INTO requests (id, author_id, type, agency_code, comment, created_at, updated_at) VALUES ($1, $2, 'complaint', $3, 'seeded', now() - $4 * interval '1 minute', now())`,
      [requestIdOf(i), pools.customer[i % CUSTOMERS]!.id, agencyOf(i), i],
    );
  }
  // A few requests with a real stored object, so that the attachment route answers 200 too.
  for (let i = 0; i < CUSTOMERS; i++) {
    const { body, contentType } = multipartBody([{ name: 'type', value: 'complaint' }, { name: 'comment', value: 'with a photo' }, { name: 'agency', value: agencyOf(i) }, { name: 'file', filename: 'p.jpg', type: 'image/jpeg', data: sampleFile('jpeg', 2_000) }]);
    const res = await fetch(`${node.apiUrl}/v1/requests`, { method: 'POST', headers: { authorization: `Bearer ${pools.customer[i]!.token}`, 'content-type': contentType }, body });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    // The attachment moved to a seeded request, which the generators name (the object stays where it is).
    const { rows } = await sql.query(`SELECT attachment_key, attachment_type, attachment_bytes, attachment_sha256 FROM requests WHERE id = $1`, [id]);
    const a = rows[0];
    await sql.query(`UPDATE requests SET attachment_key = NULL, attachment_type = NULL, attachment_bytes = NULL, attachment_sha256 = NULL WHERE id = $1`, [id]);
    await sql.query(`UPDATE requests SET attachment_key = $2, attachment_type = $3, attachment_bytes = $4, attachment_sha256 = $5 WHERE id = $1`, [requestIdOf(i), a.attachment_key, a.attachment_type, a.attachment_bytes, a.attachment_sha256]);
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url });
  await waitFor('ready and storage running', () => node.runtime.readiness('test').ready && storageRunning(node), 30_000);
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  await seed();
}, 120_000);
afterAll(async () => {
  await sql?.end();
  await node?.stop();
  await db?.drop();
});

describe('requests routes (property)', () => {
  for (const r of ROUTES) {
    it(`${r.name}: never a 5xx, over ${NUM_RUNS} runs`, { timeout: 600_000 }, async () => {
      const tally = newTally();
      const property = fc.asyncProperty(r.cases, async (c) => {
        const req = r.request(c);
        const before = requestsHandled();
        const res = await fetch(`${node.apiUrl}${req.path}`, {
          method: req.method,
          headers: { ...(req.token !== undefined ? { authorization: `Bearer ${req.token}` } : {}), ...(req.body ? { 'content-type': req.body.contentType } : {}) },
          ...(req.body ? { body: req.body.data } : {}),
        });
        const text = await res.text();
        const said = `${req.method} ${req.path} as ${JSON.stringify(c, (_k, v: unknown) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 50)}…(${v.length})` : v)).slice(0, 600)}`;
        const answer = checkRouteAnswer(tally, { res, text, reached: requestsHandled() > before, valid: r.valid(c), said });
        if (answer) {
          expect(res.status, said).toBe(r.ok.status);
          expect(r.ok.schema.safeParse(answer).success, said).toBe(true);
        }
      });
      await fc.assert(property, { numRuns: NUM_RUNS, seed: SEED });
      checkRates(r.name, tally);
    });
  }
});
