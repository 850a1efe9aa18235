// The reference cache across API instances: two nodes on one PostgreSQL and one Redis. A read on one is served from
// the shared cache (a row written behind its back stays unseen), and an admin's edit on the other instance moves the
// entity to a new cache version for both: the next read anywhere shows the edit, and rows a racing read stores under
// the old version are never served.
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

// The cache's key prefix is fixed (src/adapters/cache/redis-cache.ts): this file's entries (every version, and the
// version itself) are dropped before and after.
const AGENCIES_KEYS = `samaconso:cache:${REFERENCE_CACHE_KEYS.agency}:*`;
const dropAgencies = async () => {
  const keys = await redis.keys(AGENCIES_KEYS);
  if (keys.length) await redis.del(...keys);
};

async function codes(node: RunningNode): Promise<string[]> {
  const res = await fetch(`${node.apiUrl}/v1/agencies`, { headers: { authorization: `Bearer ${customer.token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { code: string }[]).map((a) => a.code);
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  redis = new Redis(servicesEnv().TEST_REDIS_URL);
  await dropAgencies();
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
  if (redis) await dropAgencies();
  redis?.disconnect();
  await sql?.end();
  await db?.drop();
});

describe('reference cache across instances', () => {
  it("serves reads from the shared cache, and an admin's edit on one instance shows on the other at its next read", async () => {
    expect(await codes(nodeB)).toEqual(['DAKAR-PLATEAU']);
    // Before any edit the entry's version is 0.
    expect(await redis.exists(`samaconso:cache:${REFERENCE_CACHE_KEYS.agency}:0`)).toBe(1);
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
    const version = await redis.get(`samaconso:cache:${REFERENCE_CACHE_KEYS.agency}:version`);
    expect(version).toMatch(/^[0-9a-f-]{36}$/);
    expect(await codes(nodeB)).toEqual(['BEHIND', 'DAKAR-PLATEAU', 'ZIGUINCHOR']);
    expect(await codes(nodeA)).toEqual(['BEHIND', 'DAKAR-PLATEAU', 'ZIGUINCHOR']);
    expect(await redis.exists(`samaconso:cache:${REFERENCE_CACHE_KEYS.agency}:${version}`)).toBe(1);
  });

  it('never serves rows a read loaded before an edit committed and stored after it', async () => {
    // The race an entry deletion leaves open: a reader took the version, loaded the old rows, and stores them only
    // after the edit. Played by hand: the old rows stored under the version read before the edit.
    const versionKey = `samaconso:cache:${REFERENCE_CACHE_KEYS.agency}:version`;
    const before = (await redis.get(versionKey))!;
    const res = await fetch(`${nodeB.apiUrl}/v1/agencies/ZIGUINCHOR`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ziguinchor', active: false }),
    });
    expect(res.status).toBe(200);
    const stale = [{ code: 'ZIGUINCHOR', name: 'Ziguinchor', active: true, updatedAt: new Date().toISOString() }];
    await redis.set(`samaconso:cache:${REFERENCE_CACHE_KEYS.agency}:${before}`, JSON.stringify(stale), 'PX', 60_000);
    expect(await codes(nodeA)).toEqual(['BEHIND', 'DAKAR-PLATEAU']);
    expect(await codes(nodeB)).toEqual(['BEHIND', 'DAKAR-PLATEAU']);
  });
});
