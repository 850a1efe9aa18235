// Property test of the meter-link routes (GET/POST /v1/me/meters, DELETE and PUT default of a link, GET
// /v1/me/meter-requests, approve and reject): whatever caller (each role, none, a garbage token), link id, body or
// query a client sends, the answer is never a 5xx, every 4xx is a problem+json whose code has that status, a 2xx
// matches the declared schema, and exactly the requests the route's own auth and schemas accept reach the meters
// actor (its handled count read before and after each request; one request at a time, nothing else asks it).
// Limits: customers and client addresses are spread wide (100 customers, random addresses), so the per-user and
// per-address link limits trip rarely; a tripped limit is the service answering (429), counted as reached.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { UserRole } from '../../src/contracts/caller.js';
import { linkMeterBody, meterLinkListSchema, meterLinkParams, meterLinkSchema, meterRequestListSchema, meterRequestsQuery } from '../../src/contracts/meters-messages.js';
import type { RunningNode } from '../../src/node.js';
import { insertCustomer, insertLink, insertMeters, insertStaff, postpaidRow, prepaidRow, type LinkRow, type TestUser } from '../support/meter-links.js';
import { checkRates, checkRouteAnswer, newTally } from '../support/route-properties.js';
import { admitted, tokenOf as callerToken, whoCalls, type Who } from '../support/route-callers.js';
import { actorNode, startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const SEED = Number(process.env.FC_SEED ?? 20261204);

const CUSTOMERS = 100;
const AGENCIES = ['DAKAR-PLATEAU', 'THIES', 'PIKINE'] as const;
const customerPhone = (i: number) => `+2217788${String(i).padStart(5, '0')}`;
// Prepaid meters 0..19 are owned by customers 0..19; 20..29 by nobody in the app. Postpaid 0..4 by customers 50..54.
const PREPAID = Array.from({ length: 30 }, (_, j) => `14288${String(j).padStart(6, '0')}`);
const POSTPAID = Array.from({ length: 10 }, (_, j) => `38800${String(j).padStart(4, '0')}`);
// Seeded links, by index: 0..19 active owner links (default), 20..39 pending, 40..49 active non-owner (default), 50..59 rejected.
const SEEDED_LINKS = 60;
const linkIdOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
const pools: Record<UserRole, TestUser[]> = { customer: [], agent: [], admin: [] };

function metersHandled(): number {
  return actorNode(node, 'meters')!.stats.handled;
}

const who = (allowed: readonly UserRole[]): fc.Arbitrary<Who> => whoCalls(allowed, CUSTOMERS);
const tokenOf = (w: Who): string | undefined => callerToken(pools, w);

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const linkId: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(SEEDED_LINKS - 1).map(linkIdOf) },
  { weight: 1, arbitrary: fc.uuid() },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.string({ minLength: 1, maxLength: 80 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 }),
      fc.constantFrom('.', '..', '%', 'a/b', ' ', '\u0000', "'; DROP TABLE meter_links; --", linkIdOf(1).toUpperCase(), `${linkIdOf(1)} `),
    ),
  },
);
// '.' and '..' are path segments the client resolves before sending: they never name a link.
const idValid = (id: string) => id !== '.' && id !== '..' && meterLinkParams.safeParse({ linkId: id }).success;

const meter = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PREPAID, ...POSTPAID) },
  { weight: 2, arbitrary: digits(6, 20) },
  { weight: 1, arbitrary: digits(6, 20).map((d) => ` ${d}\t`) },
  { weight: 1, arbitrary: fc.oneof(digits(0, 5), digits(21, 25), fc.string({ maxLength: 30 }), fc.constantFrom('14288 000001', '１４２８８０００００１', '-1428800000', '1e10')) },
);
type Body = { readonly json: unknown } | { readonly raw: string };
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('prepaid', 'postpaid') }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }), meter }).map((json) => ({ json })) },
  { weight: 1, arbitrary: fc.oneof(fc.jsonValue(), fc.record({ kind: fc.constantFrom('prepaid', 'postpaid'), meter: fc.oneof(fc.integer(), fc.constant(null)) })).map((json) => ({ json })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((raw) => ({ raw })) },
);
function bodyValid(b: Body): boolean {
  let value: unknown;
  if ('raw' in b) {
    try {
      value = JSON.parse(b.raw);
    } catch {
      return false;
    }
  } else value = b.json;
  return linkMeterBody.safeParse(value).success;
}

/** A `limit` query value: absent, one value, or repeated. */
const limitParam = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }).map(String) },
  { weight: 2, arbitrary: fc.oneof(fc.integer({ min: -5, max: 500 }).map(String), fc.constantFrom('', 'abc', '1.5', '0x10', ' 7', '1e2'), fc.array(fc.integer({ min: 1, max: 100 }).map(String), { minLength: 2, maxLength: 3 })) },
);

interface Request {
  readonly method: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly body?: Body | undefined;
}

interface RouteCase<C> {
  readonly name: string;
  readonly cases: fc.Arbitrary<C>;
  readonly request: (c: C) => Request;
  readonly valid: (c: C) => boolean;
  readonly ok: { readonly status: number; readonly schema?: z.ZodType };
}

function route<C>(r: RouteCase<C>): RouteCase<C> {
  return r;
}

const CUSTOMER: readonly UserRole[] = ['customer'];
const DECIDERS: readonly UserRole[] = ['customer', 'agent', 'admin'];
type ByIdCase = { readonly who: Who; readonly id: string };
/** A seeded link with the customer whose link it is (DELETE, PUT default): without it few runs would name their own. */
const ownLink: fc.Arbitrary<ByIdCase> = fc.nat(SEEDED_LINKS - 1).map((i) => ({ who: { role: 'customer', i }, id: linkIdOf(i) }));
/** A seeded pending link (20..39, on prepaid meter i - 20) with its meter's owner or an agent of its agency. */
const decider: fc.Arbitrary<ByIdCase> = fc
  .record({ i: fc.integer({ min: 20, max: 39 }), agent: fc.boolean() })
  .map(({ i, agent }) => ({ who: agent ? { role: 'agent', i: (i - 20) % AGENCIES.length } : { role: 'customer', i: i - 20 }, id: linkIdOf(i) }));
const byId = (method: string, suffix: string, allowed: readonly UserRole[], ok: RouteCase<unknown>['ok'], name: string, likely: fc.Arbitrary<ByIdCase>) =>
  route<ByIdCase>({
    name,
    cases: fc.oneof({ weight: 3, arbitrary: fc.record({ who: who(allowed), id: linkId }) }, { weight: 1, arbitrary: likely }),
    request: (c) => ({ method, path: suffix.replace(':id', encodeURIComponent(c.id)), token: tokenOf(c.who) }),
    valid: (c) => admitted(c.who, allowed) && idValid(c.id),
    ok,
  });

const ROUTES = [
  route({
    name: 'GET /v1/me/meters',
    cases: fc.record({ who: who(CUSTOMER) }),
    request: (c) => ({ method: 'GET', path: '/v1/me/meters', token: tokenOf(c.who) }),
    valid: (c) => admitted(c.who, CUSTOMER),
    ok: { status: 200, schema: meterLinkListSchema },
  }),
  route({
    name: 'POST /v1/me/meters',
    cases: fc.record({ who: who(CUSTOMER), body }),
    request: (c) => ({ method: 'POST', path: '/v1/me/meters', token: tokenOf(c.who), body: c.body }),
    valid: (c) => admitted(c.who, CUSTOMER) && bodyValid(c.body),
    ok: { status: 201, schema: meterLinkSchema },
  }),
  byId('DELETE', '/v1/me/meters/:id', CUSTOMER, { status: 204 }, 'DELETE /v1/me/meters/:linkId', ownLink),
  byId('PUT', '/v1/me/meters/:id/default', CUSTOMER, { status: 200, schema: meterLinkSchema }, 'PUT /v1/me/meters/:linkId/default', ownLink),
  route({
    name: 'GET /v1/me/meter-requests',
    cases: fc.record({ who: who(DECIDERS), limit: limitParam }),
    request: (c) => ({
      method: 'GET',
      path: `/v1/me/meter-requests${c.limit === undefined ? '' : `?${[c.limit].flat().map((l) => `limit=${encodeURIComponent(l)}`).join('&')}`}`,
      token: tokenOf(c.who),
    }),
    valid: (c) => admitted(c.who, DECIDERS) && meterRequestsQuery.safeParse(c.limit === undefined ? {} : { limit: c.limit }).success,
    ok: { status: 200, schema: meterRequestListSchema },
  }),
  byId('POST', '/v1/meter-links/:id/approve', DECIDERS, { status: 200, schema: meterLinkSchema }, 'POST /v1/meter-links/:linkId/approve', decider),
  byId('POST', '/v1/meter-links/:id/reject', DECIDERS, { status: 200, schema: meterLinkSchema }, 'POST /v1/meter-links/:linkId/reject', decider),
] as RouteCase<unknown>[];

async function seed(sql: pg.Pool): Promise<void> {
  for (let i = 0; i < CUSTOMERS; i++) pools.customer.push(await insertCustomer(sql, customerPhone(i), `C${i}`));
  // Agents in AGENCIES' order: agent i works for agencyOf(i). (A token of an agent without an agency is refused.)
  for (const agency of AGENCIES) pools.agent.push(await insertStaff(sql, 'agent', agency));
  for (let i = 0; i < 2; i++) pools.admin.push(await insertStaff(sql, 'admin', null));
  const agencyOf = (j: number) => AGENCIES[j % AGENCIES.length]!;
  await insertMeters(sql, {
    prepaid: PREPAID.map((m, j) => prepaidRow(m, j < 20 ? customerPhone(j) : '+221700000000', agencyOf(j))),
    postpaid: POSTPAID.map((a, j) => postpaidRow(a, j < 5 ? customerPhone(50 + j) : null, agencyOf(j))),
  });
}

/** The seeded links as they started: each route's runs begin from them (a route's runs end and decide links). */
async function seedLinks(sql: pg.Pool): Promise<void> {
  const agencyOf = (j: number) => AGENCIES[j % AGENCIES.length]!;
  await sql.query(`DELETE FROM meter_links`);
  for (let i = 0; i < SEEDED_LINKS; i++) {
    const j = i % 20;
    const [state, owner, isDefault]: [LinkRow['state'], boolean, boolean] = i < 20 ? ['active', true, true] : i < 40 ? ['pending', false, false] : i < 50 ? ['active', false, true] : ['rejected', false, false];
    await insertLink(sql, { id: linkIdOf(i), userId: pools.customer[i]!.id, kind: 'prepaid', meter: PREPAID[j]!, police: `P${PREPAID[j]!.slice(-6)}`, agency: agencyOf(j), owner, state, isDefault });
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url, TRUSTED_PROXY_HOPS: '1' });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  await seed(sql);
}, 120_000);
afterAll(async () => {
  await sql?.end();
  await node?.stop();
  await db?.drop();
});

const ip = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `10.${a}.${b}.${c}`);

describe('meter-link routes (property)', () => {
  for (const r of ROUTES) {
    it(`${r.name}: never a 5xx, over ${NUM_RUNS} runs`, { timeout: 300_000 }, async () => {
      await seedLinks(sql);
      const tally = newTally();
      const property = fc.asyncProperty(r.cases, ip, async (c, from) => {
        const req = r.request(c);
        const before = metersHandled();
        const res = await fetch(`${node.apiUrl}${req.path}`, {
          method: req.method,
          headers: {
            'x-forwarded-for': from,
            ...(req.token !== undefined ? { authorization: `Bearer ${req.token}` } : {}),
            ...(req.body ? { 'content-type': 'application/json' } : {}),
          },
          ...(req.body ? { body: 'raw' in req.body ? req.body.raw : JSON.stringify(req.body.json) } : {}),
        });
        const text = await res.text();
        const said = `${req.method} ${req.path} ${req.body ? JSON.stringify(req.body) : ''} as ${JSON.stringify(c)}`;
        const answer = checkRouteAnswer(tally, { res, text, reached: metersHandled() > before, valid: r.valid(c), said });
        if (answer) {
          expect(res.status, said).toBe(r.ok.status);
          if (r.ok.schema) expect(r.ok.schema.safeParse(answer).success, said).toBe(true);
        }
      });
      await fc.assert(property, { numRuns: NUM_RUNS, seed: SEED });
      checkRates(r.name, tally);
    });
  }
});
