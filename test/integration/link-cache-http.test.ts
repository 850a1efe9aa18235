// The link cache (src/meters/link-cache.ts) through two API nodes on one PostgreSQL and one Redis (live bus), sources
// in twin mode: a repeated meter-data read checks rule 5 from memory (the node's cache stats count the PostgreSQL
// checks); the owner's DELETE /v1/me/meters/{linkId} makes the very next read on the same node 404, and, once the
// announcement reached it over Redis, the other node's next read too; an account deletion likewise.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { type MeterLinkFixture, seedMeterLinks } from '../support/meter-link-rows.js';
import { insertCustomer, insertLink, TEST_PIN } from '../support/meter-links.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { ACCOUNT } from '../support/source-twin-rows.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let sql: pg.Pool;
let nodeA: RunningNode;
let nodeB: RunningNode;
let links: MeterLinkFixture;

async function call(node: RunningNode, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, any> | undefined }> {
  const res = await fetch(`${node.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const stats = (node: RunningNode) => node.links!.stats();

/** An active postpaid link of `userId` to the seeded account, written as the links flow would have. */
async function activeLink(userId: string): Promise<string> {
  return insertLink(sql, { userId, kind: 'postpaid', meter: ACCOUNT, agency: 'PIKINE' });
}

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL: servicesEnv().TEST_REDIS_URL, ROLE: 'api' };
  // Two instances behind one load balancer: their own node ids, the same database and live bus.
  nodeA = await startTestNode({ ...env, NODE_ID: `link-cache-a-${process.pid}` });
  nodeB = await startTestNode({ ...env, NODE_ID: `link-cache-b-${process.pid}` });
  for (const node of [nodeA, nodeB]) await waitFor('ready, link cache trusted', () => node.runtime.readiness('test').ready && stats(node).trusted, 30_000);
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  links = await seedMeterLinks(sql);
}, 60_000);

afterAll(async () => {
  await nodeA?.stop();
  await nodeB?.stop();
  await sql?.end();
  await db?.drop();
});

describe('the link cache across the API', () => {
  it("checks a repeated read's link from memory; the owner's DELETE makes the very next read on that node 404", async () => {
    const before = stats(nodeA);
    expect((await call(nodeA, 'GET', `/v1/meters/${links.postpaid}/bills`, links.tokens.a)).status).toBe(200);
    expect((await call(nodeA, 'GET', `/v1/meters/${links.postpaid}/bills`, links.tokens.a)).status).toBe(200);
    expect(stats(nodeA).misses - before.misses).toBe(1);
    expect(stats(nodeA).hits - before.hits).toBe(1);

    expect((await call(nodeA, 'DELETE', `/v1/me/meters/${links.postpaid}`, links.tokens.a)).status).toBe(204);
    const read = await call(nodeA, 'GET', `/v1/meters/${links.postpaid}/bills`, links.tokens.a);
    expect(read.status).toBe(404);
    expect(read.body!.code).toBe('METER_LINK_NOT_FOUND');
  });

  it("a link deleted through node A answers 404 on node B's next read once the announcement reached B", async () => {
    for (let i = 0; i < 2; i++) expect((await call(nodeB, 'GET', `/v1/meters/${links.prepaid}/purchases`, links.tokens.a)).status).toBe(200);
    const held = stats(nodeB);
    expect(held.entries).toBeGreaterThan(0);
    // B answers from memory now: the row is gone from B's view only through the bus.
    expect((await call(nodeA, 'DELETE', `/v1/me/meters/${links.prepaid}`, links.tokens.a)).status).toBe(204);
    await waitFor('node B hears the link ended', () => stats(nodeB).forgotten > held.forgotten);
    const read = await call(nodeB, 'GET', `/v1/meters/${links.prepaid}/purchases`, links.tokens.a);
    expect(read.status).toBe(404);
    expect(read.body!.code).toBe('METER_LINK_NOT_FOUND');
  });

  it("an account deleted through node A: its links answer 404 on A at once and on B once it heard", async () => {
    const f = await insertCustomer(sql, '+221779920001', 'Fatou');
    const link = await activeLink(f.id);
    for (const node of [nodeA, nodeB]) for (let i = 0; i < 2; i++) expect((await call(node, 'GET', `/v1/meters/${link}/bills`, f.token)).status).toBe(200);
    const heldB = stats(nodeB);
    expect((await call(nodeA, 'DELETE', '/v1/me', f.token, { pin: TEST_PIN })).status).toBe(204);
    // The token has no session id (minted by the test), so it still authenticates: rule 5 alone answers here.
    expect((await call(nodeA, 'GET', `/v1/meters/${link}/bills`, f.token)).status).toBe(404);
    await waitFor('node B hears the links ended', () => stats(nodeB).forgotten > heldB.forgotten);
    expect((await call(nodeB, 'GET', `/v1/meters/${link}/bills`, f.token)).status).toBe(404);
  });
});
