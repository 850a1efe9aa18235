// Property test of every reference-data route (the four reads, the admins' nine edits): whatever caller (each role,
// none, a garbage token), path, query or body a client sends, the answer is never a 5xx, every 4xx is a problem+json
// whose code has that status, a 2xx has the route's status and schema, and exactly the requests the route's own auth
// and schemas accept reach the reference actor (its handled count read before and after each request; one request at
// a time). Edits change this file's database as they go: agencies, request types and one-band tariffs seeded to be
// deleted, and agencies named by users so that a deletion is refused.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { UserRole } from '../../src/contracts/caller.js';
import {
  agenciesQuery,
  agencyParams,
  agencySchema,
  createAgencyBody,
  createRequestTypeBody,
  notificationTypeEditSchema,
  notificationTypeParams,
  putNotificationTypeBody,
  putTariffThresholdBody,
  requestTypeParams,
  requestTypeSchema,
  requestTypesQuery,
  tariffBandParams,
  tariffThresholdSchema,
  tariffThresholdsQuery,
  updateAgencyBody,
  updateRequestTypeBody,
} from '../../src/contracts/reference-messages.js';
import { notificationTypeSchema } from '../../src/domain/notification-type.js';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import type { RunningNode } from '../../src/node.js';
import { insertCustomer, insertStaff, type TestUser } from '../support/meter-links.js';
import { checkRates, checkRouteAnswer, newTally } from '../support/route-properties.js';
import { admitted, ROLES, tokenOf as callerToken, whoCalls, type Who } from '../support/route-callers.js';
import { actorNode, startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const SEED = Number(process.env.FC_SEED ?? 20261203);

const SEEDED = 30;
const pad = (i: number) => String(i).padStart(2, '0');
const DELETABLE_AGENCIES = Array.from({ length: SEEDED }, (_, i) => `DEL-${pad(i)}`);
const USED_AGENCIES = ['USED-0', 'USED-1', 'USED-2'];
const DELETABLE_TYPES = Array.from({ length: SEEDED }, (_, i) => `del_${pad(i)}`);
const ONE_BAND_TARIFFS = Array.from({ length: SEEDED }, (_, i) => `T${pad(i)}`);

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
const pools: Record<UserRole, TestUser[]> = { customer: [], agent: [], admin: [] };

function referenceHandled(): number {
  return actorNode(node, 'reference')!.stats.handled;
}

const READERS: readonly UserRole[] = ROLES;
const ADMIN: readonly UserRole[] = ['admin'];
const who = (allowed: readonly UserRole[]): fc.Arbitrary<Who> => whoCalls(allowed, 10, { allowed: 12, others: 2 });
const tokenOf = (w: Who): string | undefined => callerToken(pools, w);

/** Text no schema expects: control characters, NUL, quotes, SQL, very long, graphemes. */
const junk: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', "'; DROP TABLE agencies; --", '%', 'a/b', '.', '..', 'x'.repeat(200), '١٢٣'),
);
const segment = (likely: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof({ weight: 9, arbitrary: likely }, { weight: 1, arbitrary: junk.filter((s) => s.length > 0) });

const agencyCodes = fc.oneof(
  fc.constantFrom(...DELETABLE_AGENCIES, ...USED_AGENCIES, 'DAKAR-PLATEAU'),
  fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{1,12}$/),
);
const typeCodes = fc.oneof(fc.constantFrom(...DELETABLE_TYPES, 'complaint', 'meter_problem', 'outage', 'planned_works'), fc.stringMatching(/^[a-z][a-z0-9_]{1,12}$/));
const tariffs = fc.oneof(fc.constantFrom(...ONE_BAND_TARIFFS, 'DPP', 'DMP'), fc.stringMatching(/^[A-Z0-9_]{1,6}$/));
const bands = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 9 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('0', '10', '1.0', '01', 'a', '-1', '1e0') });

const label = fc.oneof({ weight: 9, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) }, { weight: 1, arbitrary: fc.oneof(junk, fc.integer(), fc.constant(null)) });
const bool = fc.oneof({ weight: 6, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 0, null) });
const kwh = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 8 }).map((k) => k * 50) },
  { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer({ min: -10, max: 10 }), fc.constant(1e12), fc.constant('100')) },
);
/** A band as an admin would write one: it ends above where it starts, or is open. */
const band = fc
  .record({ from: fc.integer({ min: 0, max: 8 }), width: fc.option(fc.integer({ min: 1, max: 4 })), colour: fc.stringMatching(/^#[0-9A-Fa-f]{6}$/) })
  .map(({ from, width, colour }) => ({ kwhMin: from * 50, kwhMax: width === null ? null : (from + width) * 50, colour }));
const colourArb = fc.oneof({ weight: 5, arbitrary: fc.stringMatching(/^#[0-9A-Fa-f]{6}$/) }, { weight: 1, arbitrary: junk });

/** A body as sent: JSON of a value, or raw text. */
type Body = { readonly json: unknown } | { readonly raw: string };
const body = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 8, arbitrary: valid.map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.jsonValue().map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((raw) => ({ raw })) },
  );
const sent = (b: Body): string => ('raw' in b ? b.raw : JSON.stringify(b.json));
function bodyAs(b: Body | undefined): unknown {
  if (!b) return undefined;
  const text = sent(b);
  if (text === undefined || text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return Symbol('malformed');
  }
}

interface Case {
  readonly who: Who;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | string[]>;
  readonly body?: Body;
}

interface RouteSpec {
  readonly method: string;
  readonly path: string;
  readonly allowed: readonly UserRole[];
  readonly params?: { readonly arb: fc.Arbitrary<Record<string, string>>; readonly schema: z.ZodType };
  readonly query?: { readonly arb: fc.Arbitrary<Record<string, string | string[]>>; readonly schema: z.ZodType };
  readonly body?: { readonly arb: fc.Arbitrary<Body>; readonly schema: z.ZodType };
  readonly ok: { readonly statuses: readonly number[]; readonly schema?: z.ZodType };
}

const caseOf = (r: RouteSpec): fc.Arbitrary<Case> =>
  fc.record({
    who: who(r.allowed),
    params: r.params?.arb ?? fc.constant({}),
    query: r.query?.arb ?? fc.constant({}),
    ...(r.body ? { body: r.body.arb } : {}),
  }) as fc.Arbitrary<Case>;

function pathOf(r: RouteSpec, c: Case): string {
  const path = r.path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(c.params[name]!));
  const qs = Object.entries(c.query).flatMap(([k, v]) => [v].flat().map((x) => `${k}=${encodeURIComponent(x)}`));
  return qs.length ? `${path}?${qs.join('&')}` : path;
}

function validCase(r: RouteSpec, c: Case): boolean {
  // '.' and '..' are path segments the client resolves before sending: they never name a row.
  if (Object.values(c.params).some((p) => p === '.' || p === '..')) return false;
  const query = Object.fromEntries(Object.entries(c.query).map(([k, v]) => [k, Array.isArray(v) && v.length === 1 ? v[0] : v]));
  return (
    admitted(c.who, r.allowed) &&
    (!r.params || r.params.schema.safeParse(c.params).success) &&
    (!r.query || r.query.schema.safeParse(query).success) &&
    (!r.body || r.body.schema.safeParse(bodyAs(c.body)).success)
  );
}

const allParam = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 4, arbitrary: fc.constantFrom('true', 'false').map((all) => ({ all })) },
  { weight: 1, arbitrary: fc.oneof(junk, fc.constant<string[]>(['true', 'true'])).map((all) => ({ all })) },
);
const agencyPath = fc.record({ code: segment(agencyCodes) });
const typePath = fc.record({ code: segment(typeCodes) });
const bandPath = fc.record({ tariff: segment(tariffs), band: bands });
const notificationBody = fc.record(
  {
    label,
    queue: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...PRIORITY_QUEUES) }, { weight: 1, arbitrary: junk }),
    ttlSeconds: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 60, max: 2_419_200 }) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()) }),
    collapseKey: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/) }, { weight: 1, arbitrary: junk }),
  },
  { requiredKeys: ['label', 'queue', 'ttlSeconds'] },
);

const ROUTES: RouteSpec[] = [
  { method: 'GET', path: '/v1/notification-types', allowed: READERS, ok: { statuses: [200], schema: z.array(notificationTypeSchema) } },
  { method: 'GET', path: '/v1/agencies', allowed: READERS, query: { arb: allParam, schema: agenciesQuery }, ok: { statuses: [200], schema: z.array(agencySchema) } },
  {
    method: 'GET',
    path: '/v1/tariff-thresholds',
    allowed: READERS,
    query: { arb: fc.oneof(fc.constant({}), tariffs.map((tariff) => ({ tariff })), junk.map((tariff) => ({ tariff }))), schema: tariffThresholdsQuery },
    ok: { statuses: [200], schema: z.array(tariffThresholdSchema) },
  },
  { method: 'GET', path: '/v1/request-types', allowed: READERS, query: { arb: allParam, schema: requestTypesQuery }, ok: { statuses: [200], schema: z.array(requestTypeSchema) } },
  {
    method: 'POST',
    path: '/v1/agencies',
    allowed: ADMIN,
    body: { arb: body(fc.record({ code: fc.oneof({ weight: 4, arbitrary: agencyCodes }, { weight: 1, arbitrary: junk }), name: label })), schema: createAgencyBody },
    ok: { statuses: [201], schema: agencySchema },
  },
  { method: 'PUT', path: '/v1/agencies/:code', allowed: ADMIN, params: { arb: agencyPath, schema: agencyParams }, body: { arb: body(fc.record({ name: label, active: bool })), schema: updateAgencyBody }, ok: { statuses: [200], schema: agencySchema } },
  { method: 'DELETE', path: '/v1/agencies/:code', allowed: ADMIN, params: { arb: agencyPath, schema: agencyParams }, ok: { statuses: [204] } },
  {
    method: 'PUT',
    path: '/v1/tariff-thresholds/:tariff/:band',
    allowed: ADMIN,
    params: { arb: bandPath, schema: tariffBandParams },
    body: { arb: body(fc.oneof({ weight: 3, arbitrary: band }, { weight: 1, arbitrary: fc.record({ kwhMin: kwh, kwhMax: fc.oneof(fc.constant(null), kwh), colour: colourArb }) })), schema: putTariffThresholdBody },
    ok: { statuses: [200, 201], schema: tariffThresholdSchema },
  },
  { method: 'DELETE', path: '/v1/tariff-thresholds/:tariff/:band', allowed: ADMIN, params: { arb: bandPath, schema: tariffBandParams }, ok: { statuses: [204] } },
  {
    method: 'PUT',
    path: '/v1/notification-types/:code',
    allowed: ADMIN,
    params: { arb: typePath, schema: notificationTypeParams },
    body: { arb: body(notificationBody), schema: putNotificationTypeBody },
    ok: { statuses: [200, 201], schema: notificationTypeEditSchema },
  },
  {
    method: 'POST',
    path: '/v1/request-types',
    allowed: ADMIN,
    body: { arb: body(fc.record({ code: fc.oneof({ weight: 4, arbitrary: typeCodes }, { weight: 1, arbitrary: junk }), label, needsMeter: bool })), schema: createRequestTypeBody },
    ok: { statuses: [201], schema: requestTypeSchema },
  },
  {
    method: 'PUT',
    path: '/v1/request-types/:code',
    allowed: ADMIN,
    params: { arb: typePath, schema: requestTypeParams },
    body: { arb: body(fc.record({ label, needsMeter: bool, active: bool })), schema: updateRequestTypeBody },
    ok: { statuses: [200], schema: requestTypeSchema },
  },
  { method: 'DELETE', path: '/v1/request-types/:code', allowed: ADMIN, params: { arb: typePath, schema: requestTypeParams }, ok: { statuses: [204] } },
];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  await sql.query(`INSERT INTO agencies (code, name) SELECT unnest($1::text[]), 'Agence'`, [[...DELETABLE_AGENCIES, ...USED_AGENCIES, 'DAKAR-PLATEAU']]);
  await sql.query(`INSERT INTO request_types (code, label, needs_meter) SELECT unnest($1::text[]), 'À supprimer', false`, [DELETABLE_TYPES]);
  await sql.query(`INSERT INTO tariff_thresholds (tariff, band, kwh_min, kwh_max, colour) SELECT unnest($1::text[]), 1, 0, NULL, '#000000'`, [ONE_BAND_TARIFFS]);
  // The in-process cache: this file's edits never reach the Redis other files read.
  node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: undefined, ROLE: 'api' });
  await waitFor('ready', () => node.runtime.readiness('api').ready);
  for (let i = 0; i < 3; i++) pools.customer.push(await insertCustomer(sql, `+22177994000${i}`));
  for (const agency of ['DAKAR-PLATEAU', 'THIES']) pools.agent.push(await insertStaff(sql, 'agent', agency));
  for (let i = 0; i < 2; i++) pools.admin.push(await insertStaff(sql, 'admin', null));
  // An agent of each USED- agency: deleting it is refused (409 AGENCY_IN_USE).
  for (const agency of USED_AGENCIES) await sql.query(`INSERT INTO users (id, ldap_login, role, agency_code, created_at) VALUES (gen_random_uuid(), $1, 'agent', $1, now())`, [agency]);
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await db?.drop();
});

describe('reference routes (property)', () => {
  for (const r of ROUTES) {
    const name = `${r.method} ${r.path}`;
    it(`${name}: never a 5xx, over ${NUM_RUNS} runs`, { timeout: 300_000 }, async () => {
      const tally = newTally();
      const property = fc.asyncProperty(caseOf(r), async (c) => {
        const path = pathOf(r, c);
        const token = tokenOf(c.who);
        const before = referenceHandled();
        const res = await fetch(`${node.apiUrl}${path}`, {
          method: r.method,
          headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...(c.body ? { 'content-type': 'application/json' } : {}) },
          ...(c.body ? { body: sent(c.body) } : {}),
        });
        const text = await res.text();
        const said = `${r.method} ${path} ${c.body ? sent(c.body) : ''} as ${JSON.stringify(c.who)}`;
        const answer = checkRouteAnswer(tally, { res, text, reached: referenceHandled() > before, valid: validCase(r, c), said });
        if (answer) {
          expect(r.ok.statuses, said).toContain(res.status);
          if (r.ok.schema) expect(r.ok.schema.safeParse(answer).success, said).toBe(true);
        }
      });
      await fc.assert(property, { numRuns: NUM_RUNS, seed: SEED });
      checkRates(name, tally);
    });
  }
});
