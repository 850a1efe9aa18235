// Property test of the meter-data routes (GET /v1/meters/{linkId}/purchases, /purchases/monthly, /bills, /bills/monthly,
// /contract): whatever link id, caller and query a client sends — the seeded links (active, pending, ended, either
// kind) read by their user, another customer, agents of each agency and an admin; unknown ids and strings that are no
// id; periods, limits and years valid, out of range, malformed, half given or repeated; no token or a bad one — the
// answer is never a 5xx, every 4xx is a problem+json whose code has that status, and a 200 matches the route's declared
// schema. "Reached" is measured, not assumed: the meter-data actor's handled count is read before and after each
// request (one at a time, nothing else asks it), and must move exactly when the route's own schemas accept the input.
import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  billsQuery,
  billsSchema,
  contractSchema,
  monthlyBillsSchema,
  monthlyPurchasesSchema,
  monthlyQuery,
  purchasesQuery,
  purchasesSchema,
} from '../../src/contracts/meter-data-messages.js';
import { meterLinkParams } from '../../src/contracts/meters-messages.js';
import type { RunningNode } from '../../src/node.js';
import { type MeterLinkFixture, seedMeterLinks } from '../support/meter-link-rows.js';
import { checkRates, checkRouteAnswer, newTally } from '../support/route-properties.js';
import { actorNode, startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const SEED = Number(process.env.FC_SEED ?? 20261203);

let db: TestDatabase;
let node: RunningNode;
let links: MeterLinkFixture;

type Caller = keyof MeterLinkFixture['tokens'];
type Slot = 'prepaid' | 'postpaid' | 'pending' | 'ended';

interface Case {
  /** A seeded link (resolved when sent) or a literal id. */
  readonly link: { slot: Slot } | { id: string };
  /** A seeded caller's token, none, or a string that is no token. */
  readonly auth: { caller: Caller } | { none: true } | { junk: string };
  readonly query: Readonly<Record<string, string | string[]>>;
}

interface RouteUnderTest {
  readonly suffix: string;
  readonly query: z.ZodType | undefined;
  readonly response: z.ZodType;
  readonly params: fc.Arbitrary<Record<string, string | string[]>>;
}

// ---------------------------------------------------------------------------------------------------------------
// Generators

const slot = fc.constantFrom<Slot>('prepaid', 'postpaid', 'pending', 'ended');
const uuid = fc.uuid();
// Not `.` nor `..`: a client's URL parser folds those segments away before the request is sent.
const junkId = fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 })).filter((s) => s !== '.' && s !== '..');
const link: fc.Arbitrary<Case['link']> = fc.oneof({ weight: 6, arbitrary: slot.map((s) => ({ slot: s })) }, uuid.map((id) => ({ id })), junkId.map((id) => ({ id })));

const caller = fc.constantFrom<Caller>('a', 'b', 'admin', 'pikine', 'plateau', 'thies');
const auth: fc.Arbitrary<Case['auth']> = fc.oneof(
  { weight: 12, arbitrary: caller.map((c) => ({ caller: c })) },
  fc.constant({ none: true as const }),
  fc.string({ maxLength: 40 }).map((junk) => ({ junk })),
);

const instant = fc.date({ min: new Date('2024-06-01T00:00:00Z'), max: new Date('2027-06-01T00:00:00Z'), noInvalidDate: true });
const written = (d: Date) => fc.constantFrom(d.toISOString().slice(0, 10), d.toISOString(), d.toISOString().replace('Z', '+00:00'), `${d.toISOString().slice(0, 19)}-05:30`);
const validDate = instant.chain(written);
const badDate = fc.oneof(
  fc.constantFrom('2026-02-30', '2026-13-01', '2026-1-1', '2026-01-01T08:00', '2026-01-01T25:00:00Z', '0000-01-01', '1899-12-31', '2101-01-01', '', 'yesterday', '1735689600', '٢٠٢٦-٠١-٠١'),
  fc.string({ maxLength: 30 }),
);
const validLimit = fc.integer({ min: 1, max: 100 }).map(String);
const badLimit = fc.oneof(fc.constantFrom('0', '101', '-1', '2.5', '1e2', ' 5', '', 'ten', '99999999999'), fc.string({ maxLength: 12 }));
const validYear = fc.integer({ min: 2000, max: 2100 }).map(String);
const badYear = fc.oneof(fc.constantFrom('1999', '2101', '20x6', '', '+2026', ' 2026', '2026.0', '0'), fc.string({ maxLength: 8 }));

/** Each parameter: absent, valid, invalid, or repeated. */
function param(valid: fc.Arbitrary<string>, bad: fc.Arbitrary<string>): fc.Arbitrary<string | string[] | undefined> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: valid }, { weight: 2, arbitrary: bad }, fc.array(valid, { minLength: 2, maxLength: 3 }));
}

const defined = (q: Record<string, string | string[] | undefined>): Record<string, string | string[]> =>
  Object.fromEntries(Object.entries(q).filter((e): e is [string, string | string[]] => e[1] !== undefined));

const listParams: fc.Arbitrary<Record<string, string | string[]>> = fc.oneof(
  // Mostly what a client means: the latest, or a period in order, with a limit or not.
  {
    weight: 3,
    arbitrary: fc.record({ period: fc.option(fc.tuple(instant, instant), { nil: undefined }), limit: fc.option(validLimit, { nil: undefined }) }).chain(({ period, limit }) => {
      if (!period) return fc.constant(defined({ limit }));
      const [from, to] = [...period].sort((x, y) => x.getTime() - y.getTime()) as [Date, Date];
      return fc.record({ from: written(from), to: written(to) }).map((p) => defined({ ...p, limit }));
    }),
  },
  { weight: 2, arbitrary: fc.record({ from: param(validDate, badDate), to: param(validDate, badDate), limit: param(validLimit, badLimit) }).map(defined) },
);
const monthlyParams = fc.record({ year: param(validYear, badYear) }).map(defined);
const noParams = fc.oneof(fc.constant({}), fc.record({ year: validYear }), fc.record({ x: fc.string({ maxLength: 10 }) }));

const ROUTES: readonly RouteUnderTest[] = [
  { suffix: '/purchases', query: purchasesQuery, response: purchasesSchema, params: listParams },
  { suffix: '/purchases/monthly', query: monthlyQuery, response: monthlyPurchasesSchema, params: monthlyParams },
  { suffix: '/bills', query: billsQuery, response: billsSchema, params: listParams },
  { suffix: '/bills/monthly', query: monthlyQuery, response: monthlyBillsSchema, params: monthlyParams },
  // The contract takes no query: whatever is there is ignored.
  { suffix: '/contract', query: undefined, response: contractSchema, params: noParams },
];

// ---------------------------------------------------------------------------------------------------------------

const linkIdOf = (c: Case): string => ('slot' in c.link ? links[c.link.slot] : c.link.id);

function queryString(query: Case['query']): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of [v].flat()) search.append(k, one);
  const text = search.toString();
  return text ? `?${text}` : '';
}

function headersOf(c: Case): Record<string, string> {
  if ('caller' in c.auth) return { authorization: `Bearer ${links.tokens[c.auth.caller]}` };
  // A junk header value a client could not even send (a line break) is sent as no header.
  if ('junk' in c.auth && /^[\t\x20-\x7e]*$/.test(c.auth.junk)) return { authorization: c.auth.junk };
  return {};
}

/** Whether the route takes the request: a seeded caller, and the route's own schemas accepting the path and query as Koa parses them. */
function isValid(route: RouteUnderTest, c: Case): boolean {
  const parsed = parseQuery(queryString(c.query).slice(1));
  return 'caller' in c.auth && meterLinkParams.safeParse({ linkId: linkIdOf(c) }).success && (route.query?.safeParse({ ...parsed }).success ?? true);
}

function meterDataHandled(): number {
  return actorNode(node, 'meter-data')!.stats.handled;
}

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  links = await seedMeterLinks(pool);
  await pool.end();
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await db?.drop();
});

describe('meter-data routes (property)', () => {
  for (const route of ROUTES) {
    it(`GET /v1/meters/{linkId}${route.suffix} never answers a 5xx, over ${NUM_RUNS} runs`, { timeout: 300_000 }, async () => {
      const tally = newTally();
      const cases: fc.Arbitrary<Case> = fc.record({ link, auth, query: route.params });
      const property = fc.asyncProperty(cases, async (c) => {
        const path = `/v1/meters/${encodeURIComponent(linkIdOf(c))}${route.suffix}${queryString(c.query)}`;
        const before = meterDataHandled();
        const res = await fetch(`${node.apiUrl}${path}`, { headers: headersOf(c) });
        const text = await res.text();
        const said = `${path} as ${JSON.stringify(c.auth)}`;
        const body = checkRouteAnswer(tally, { res, text, reached: meterDataHandled() > before, valid: isValid(route, c), said });
        if (body) {
          expect(res.status, said).toBe(200);
          expect(route.response.safeParse(body).success, said).toBe(true);
        }
      });
      await fc.assert(property, { numRuns: NUM_RUNS, seed: SEED });
      checkRates(route.suffix, tally);
    });
  }
});
