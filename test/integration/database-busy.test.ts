// PostgreSQL under load, not away: a pool of one connection, held by someone past the acquire timeout. Callers are
// told 503 DATABASE_BUSY with Retry-After, the postgres actor's probe times out like everyone else's query, and the
// actor stays up (counted in its stats and readiness detail) instead of crashing into rest-for-one restarts.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgHandle, PostgresMessage } from '../../src/adapters/postgres/postgres-messages.js';
import type { RunningNode } from '../../src/node.js';
import { adminToken } from '../support/dispatch.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
let admin: string;

const postgresPart = () => node.runtime.readiness('test').parts.find((p) => p.name === 'postgres')!;
const treeStats = (name: string) => {
  const resources = node.runtime.tree().children!.find((c) => c.name === 'resources')!;
  return name === 'resources' ? resources.stats : resources.children!.find((c) => c.name === name)!.stats;
};
/** The probes the postgres actor counted as timed out under load (from its readiness detail). */
const probesTimedOut = () => Number(/(\d+) probes? timed out/.exec(postgresPart().detail ?? '')?.[1] ?? 0);

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  node = await startTestNode({ DATABASE_URL: db.url, ROLE: 'api', PG_POOL_MAX: '1', PG_ACQUIRE_TIMEOUT_MS: '200', REDIS_URL: undefined });
  await waitFor('postgres running', () => postgresPart().state === 'running', 30_000);
  admin = await adminToken(sql);
});
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await db?.drop();
});

describe('a saturated pool (poolMax 1, its connection held past the acquire timeout)', () => {
  it('answers 503 DATABASE_BUSY with Retry-After, counts the load, and keeps the postgres actor up without a restart', async () => {
    const handle = (await node.runtime.ask<PostgresMessage, 'lend'>('postgres', 'lend', {}, 1_000)) as PgHandle;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let acquired!: () => void;
    const holding = new Promise<void>((r) => (acquired = r));
    const held = handle.transaction(async () => {
      acquired();
      await gate;
    });
    await holding;
    try {
      const res = await fetch(`${node.apiUrl}/v1/notifications/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await res.json()) as { code: string }).code).toBe('DATABASE_BUSY');

      // The actor's own probe meets the same full pool: counted as load, the actor running (and ready) throughout.
      await waitFor('a probe timed out under load', () => probesTimedOut() >= 1, 30_000);
      expect(postgresPart()).toMatchObject({ state: 'running', ready: true });
      expect(postgresPart().detail).toMatch(/busy: [1-9]\d* quer(y|ies) refused/);
    } finally {
      release();
      await held;
    }
    expect(treeStats('postgres')).toMatchObject({ crashes: 0, restarts: 0, state: 'running' });
    expect(treeStats('resources')).toMatchObject({ crashes: 0, restarts: 0 });
    const after = await fetch(`${node.apiUrl}/v1/notifications/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${admin}` } });
    expect(after.status).toBe(404);
  }, 60_000);
});
