// The reference cache across API instances: two nodes on one PostgreSQL and one Redis. A read on one is served from
// the shared cache (a row written behind its back stays unseen), and an admin's edit on the other instance drops the
// entry for both: the next read anywhere shows the edit.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { REFERENCE_CACHE_KEYS } from '../../src/reference/index.js';
import { insertCustomer, insertStaff, type TestUser } from '../support/meter-links.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let sql: pg.Pool;
let redis: Redis;
let nodeA: RunningNode;
let nodeB: RunningNode;
let customer: TestUser;
let admin: TestUser;

// The cache's key prefix is fixed (src/adapters/cache/redis-cache.ts): this file's entries are dropped before and after.
const AGENCIES_KEY = `samaconso:cache:${REFERENCE_CACHE_KEYS.agency}`;

async function codes(node: RunningNode): Promise<string[]> {
  const res = await fetch(`${node.apiUrl}/v1/agencies`, { headers: { authorization: `Bearer ${customer.token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { code: string }[]).map((a) => a.code);
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  redis = new Redis(servicesEnv().TEST_REDIS_URL);
  await redis.del(AGENCIES_KEY);
  await sql.query(`INSERT INTO agencies (code, name) VALUES ('DAKAR-PLATEAU', 'Dakar Plateau')`);
  const env = { DATABASE_URL: db.url, REDIS_URL: servicesEnv().TEST_REDIS_URL, ROLE: 'api' };
  nodeA = await startTestNode(env);
  nodeB = await startTestNode(env);
  await waitFor('both ready', () => nodeA.runtime.readiness('api').ready && nodeB.runtime.readiness('api').ready);
  customer = await insertCustomer(sql, '+221779930001');
  admin = await insertStaff(sql, 'admin', null);
}, 120_000);
afterAll(async () => {
  await nodeA?.stop();
  await nodeB?.stop();
  await redis?.del(AGENCIES_KEY);
  redis?.disconnect();
  await sql?.end();
  await db?.drop();
});

describe('reference cache across instances', () => {
  it("serves reads from the shared cache, and an admin's edit on one instance shows on the other at its next read", async () => {
    expect(await codes(nodeB)).toEqual(['DAKAR-PLATEAU']);
    expect(await redis.exists(AGENCIES_KEY)).toBe(1);
    // Behind the cache's back: both instances keep answering from Redis.
    await sql.query(`INSERT INTO agencies (code, name) VALUES ('BEHIND', 'Written by hand')`);
    expect(await codes(nodeA)).toEqual(['DAKAR-PLATEAU']);
    expect(await codes(nodeB)).toEqual(['DAKAR-PLATEAU']);

    const res = await fetch(`${nodeA.apiUrl}/v1/agencies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'ZIGUINCHOR', name: 'Ziguinchor' }),
    });
    expect(res.status).toBe(201);
    expect(await codes(nodeB)).toEqual(['BEHIND', 'DAKAR-PLATEAU', 'ZIGUINCHOR']);
    expect(await codes(nodeA)).toEqual(['BEHIND', 'DAKAR-PLATEAU', 'ZIGUINCHOR']);
  });
});
