// Property test of GET /v1/dashboard: whatever caller (each role, none, a garbage token) and `agency` query a client
// sends, the answer is never a 5xx, every 4xx is a problem+json whose code has that status, a 200 matches the
// declared schema, and exactly the requests the route's auth and query schema accept reach the dashboard actor.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRole } from '../../src/contracts/caller.js';
import { dashboardQuery, dashboardSchema } from '../../src/contracts/dashboard-messages.js';
import type { RunningNode } from '../../src/node.js';
import { insertCustomer, insertLink, insertStaff, type TestUser } from '../support/meter-links.js';
import { checkRates, checkRouteAnswer, newTally } from '../support/route-properties.js';
import { actorNode, startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const SEED = Number(process.env.FC_SEED ?? 20261203);
const AGENCIES = ['DAKAR-PLATEAU', 'THIES', 'PIKINE'] as const;

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
const pools: Record<UserRole, TestUser[]> = { customer: [], agent: [], admin: [] };

function dashboardHandled(): number {
  return actorNode(node, 'dashboard')!.stats.handled;
}

type Who = { readonly role: UserRole; readonly i: number } | { readonly role: 'none' } | { readonly role: 'garbage'; readonly token: string };
const ALLOWED: readonly UserRole[] = ['agent', 'admin'];
const who: fc.Arbitrary<Who> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ role: fc.constantFrom(...ALLOWED), i: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ role: fc.constant('customer' as const), i: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.constant({ role: 'none' as const }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{0,60}$/).map((token) => ({ role: 'garbage' as const, token })) },
);
const tokenOf = (w: Who): string | undefined => (w.role === 'none' ? undefined : w.role === 'garbage' ? w.token : pools[w.role][w.i % pools[w.role].length]!.token);
const admitted = (w: Who) => w.role !== 'none' && w.role !== 'garbage' && ALLOWED.includes(w.role);

/** The `agency` values sent: absent, a known agency, any text (NUL, SQL, graphemes, too long), repeated. */
const agency: fc.Arbitrary<string | string[] | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.constantFrom(...AGENCIES) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
      fc.constantFrom('', '\u0000', "'; DROP TABLE requests; --", 'x'.repeat(65)),
      fc.array(fc.constantFrom(...AGENCIES), { minLength: 2, maxLength: 3 }),
    ),
  },
);

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  await sql.query(`INSERT INTO agencies (code, name) SELECT unnest($1::text[]), 'Agence'`, [[...AGENCIES]]);
  node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: undefined, ROLE: 'api', DASHBOARD_CACHE_MS: '0' });
  await waitFor('ready', () => node.runtime.readiness('api').ready);
  for (let i = 0; i < 3; i++) pools.customer.push(await insertCustomer(sql, `+22177996000${i}`));
  for (const a of AGENCIES) pools.agent.push(await insertStaff(sql, 'agent', a));
  for (let i = 0; i < 2; i++) pools.admin.push(await insertStaff(sql, 'admin', null));
  await insertLink(sql, { userId: pools.customer[0]!.id, kind: 'postpaid', meter: '300000000001', agency: 'THIES' });
  await insertLink(sql, { userId: pools.customer[1]!.id, kind: 'postpaid', meter: '300000000001', agency: 'THIES', owner: false, state: 'pending' });
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await db?.drop();
});

describe('dashboard route (property)', () => {
  it(`GET /v1/dashboard: never a 5xx, over ${NUM_RUNS} runs`, { timeout: 300_000 }, async () => {
    const tally = newTally();
    const property = fc.asyncProperty(who, agency, async (w, a) => {
      const qs = a === undefined ? '' : `?${[a].flat().map((v) => `agency=${encodeURIComponent(v)}`).join('&')}`;
      const token = tokenOf(w);
      const before = dashboardHandled();
      const res = await fetch(`${node.apiUrl}/v1/dashboard${qs}`, { headers: token !== undefined ? { authorization: `Bearer ${token}` } : {} });
      const text = await res.text();
      const valid = admitted(w) && dashboardQuery.safeParse(a === undefined ? {} : { agency: a }).success;
      const said = `GET /v1/dashboard${qs} as ${JSON.stringify(w)}`;
      const answer = checkRouteAnswer(tally, { res, text, reached: dashboardHandled() > before, valid, said });
      if (answer) {
        expect(res.status, said).toBe(200);
        expect(dashboardSchema.safeParse(answer).success, said).toBe(true);
      }
    });
    await fc.assert(property, { numRuns: NUM_RUNS, seed: SEED });
    checkRates('GET /v1/dashboard', tally);
  });
});
