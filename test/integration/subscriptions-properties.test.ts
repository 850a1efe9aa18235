// Property test of GET /v1/subscriptions/:noticeNumber: whatever notice number, phone and query a client sends —
// seeded requests with their own phone in any notation, other valid numbers and phones, strings that are neither,
// repeated and missing parameters — the answer is never a 5xx, every 4xx is a problem+json whose code has that
// status, and a 200 matches the declared schema and the phone on file. "Reached" is measured, not assumed: the
// customer-data actor's handled count is read before and after each request (one at a time, nothing else asks it).
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionParams, subscriptionQuery, subscriptionRequestSchema } from '../../src/contracts/customer-data-messages.js';
import type { RunningNode } from '../../src/node.js';
import { invalidPhone, snNotation, validPhone, writeSn } from '../support/arbitraries.js';
import { checkRates, checkRouteAnswer, newTally } from '../support/route-properties.js';
import { actorNode, startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { insertTwinRows } from '../support/source-twin.js';
import { waitFor } from '../support/wait.js';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const SEED = Number(process.env.FC_SEED ?? 20261203);
// Enough seeded requests that the runs landing on them stay under the per-notice limit (10 an hour) on average.
const SEEDED = 200;
const seededNotice = (i: number) => `41${String(i).padStart(7, '0')}`;
const seededPhone = (i: number) => `+22177${String(5_000_000 + i).padStart(7, '0')}`;

let db: TestDatabase;
let node: RunningNode;

function customerDataHandled(): number {
  return actorNode(node, 'customer-data')!.stats.handled;
}

interface Case {
  readonly notice: string;
  /** undefined: no phone parameter; an array: the parameter repeated. */
  readonly phone: string | string[] | undefined;
  /** The seeded request whose phone was given, when it was. */
  readonly owner?: number;
  readonly ip: string;
}

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const ip = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `10.${a}.${b}.${c}`);
const badNotice = fc.oneof(
  digits(1, 3),
  digits(21, 30),
  fc.constantFrom('4000 1234', '40000ABC', '-400001234', '4e8', '٤٠٠٠٠١٢٣٤', '400001234\u0000', '..', '%', '400001234;DROP TABLE x', ' 400001234'),
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
);

const cases: fc.Arbitrary<Case> = fc.oneof(
  // The owner's own phone, in any notation.
  { weight: 3, arbitrary: fc.record({ i: fc.integer({ min: 0, max: SEEDED - 1 }), notation: snNotation, ip }).map(({ i, notation, ip }) => ({ notice: seededNotice(i), phone: writeSn(seededPhone(i), notation), owner: i, ip })) },
  // A valid phone that is not the owner's, or a number nobody has.
  { weight: 2, arbitrary: fc.record({ notice: fc.oneof(fc.integer({ min: 0, max: SEEDED - 1 }).map(seededNotice), digits(4, 20)), phone: validPhone, ip }) },
  // Mostly something invalid in one parameter or both, missing or repeated (a seeded number with a valid phone at times).
  {
    weight: 3,
    arbitrary: fc.record({
      notice: fc.oneof(badNotice, fc.integer({ min: 0, max: SEEDED - 1 }).map(seededNotice)),
      phone: fc.oneof(invalidPhone, fc.constant(undefined), fc.array(validPhone, { minLength: 2, maxLength: 3 }), validPhone),
      ip,
    }),
  },
);

/** Whether the route's own schemas accept the case: such a request must reach the handler. */
const isValid = (c: Case): boolean =>
  subscriptionParams.safeParse({ noticeNumber: c.notice }).success && typeof c.phone === 'string' && subscriptionQuery.safeParse({ phone: c.phone }).success;

function pathOf(c: Case): string {
  const query = c.phone === undefined ? '' : `?${[c.phone].flat().map((p) => `phone=${encodeURIComponent(p)}`).join('&')}`;
  return `/v1/subscriptions/${encodeURIComponent(c.notice)}${query}`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url, TRUSTED_PROXY_HOPS: '1' });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  const rows = Array.from({ length: SEEDED }, (_, i) =>
    [1, 2].map((code) => ({
      NUM_AVIS: seededNotice(i), CODE_ETAPE: code, DESC_ETAPE: `Etape ${code}`, DATE_TERM: code === 1 ? '20260110' : null, HEURE_TERM: '093000',
      NUM_PARTENAIRE: '0001000001', PRENOM: 'Awa', NOM: 'Diop', TELEPHONE: seededPhone(i), STATUT_AVIS: 'EN COURS', DT_DERNIERE_MAJ: new Date('2026-01-15T10:00:00Z'),
    })),
  ).flat();
  await insertTwinRows(pool, 'bi_ods."AVIS_ETAPES_HANA"', rows);
  await pool.end();
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await db?.drop();
});

describe('GET /v1/subscriptions/:noticeNumber (property)', () => {
  it(`never answers a 5xx, over ${NUM_RUNS} runs`, { timeout: 300_000 }, async () => {
    const tally = newTally();
    const property = fc.asyncProperty(cases, async (c) => {
      const before = customerDataHandled();
      const res = await fetch(`${node.apiUrl}${pathOf(c)}`, { headers: { 'x-forwarded-for': c.ip } });
      const text = await res.text();
      const said = pathOf(c);
      const body = checkRouteAnswer(tally, { res, text, reached: customerDataHandled() > before, valid: isValid(c), said });
      if (body) {
        expect(res.status, said).toBe(200);
        expect(subscriptionRequestSchema.safeParse(body).success, said).toBe(true);
        // Only the owner's phone ever gets the steps.
        expect(c.owner !== undefined && body.noticeNumber === seededNotice(c.owner), said).toBe(true);
      }
    });
    await fc.assert(property, { numRuns: NUM_RUNS, seed: SEED });
    checkRates('GET /v1/subscriptions/{noticeNumber}', tally);
    expect(tally.ok).toBeGreaterThan(0);
  });
});
