import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/adapters/cache/cache.js';
import type { CacheMessage } from '../../src/adapters/cache/cache-messages.js';
import type { PostgresMessage } from '../../src/adapters/postgres/postgres-messages.js';
import type { ReferenceMessage } from '../../src/contracts/reference-messages.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { createEmptyDatabase, createTestDatabase, startPrivateRedis, type PrivateRedis, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const partState = (node: RunningNode, name: string) => node.runtime.readiness('test').parts.find((p) => p.name === name)?.state;
// Ready is polled, not sampled: the consumers read their queue's pause in PostgreSQL before subscribing, so they
// attach on their next retry after the database is lent.
const untilReady = (node: RunningNode, what: string) =>
  waitFor(what, async () => (await fetch(`${node.apiUrl}/health/ready`)).status === 200, 20_000);

describe('postgres resource', () => {
  it('applies the migrations at start on an empty database and becomes ready', async () => {
    const db = await createEmptyDatabase();
    const node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: undefined });
    try {
      await waitFor('postgres running', () => partState(node, 'postgres') === 'running');
      await untilReady(node, 'ready after the migrations');
      const res = await fetch(`${node.apiUrl}/health/ready`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { ready: boolean; parts: Array<{ name: string; state: string }> };
      expect(body.ready).toBe(true);
      expect(body.parts.map((p) => p.name).sort()).toEqual(['accounts', 'broker', 'broker-admin', 'cache', 'consumer.high_priority', 'consumer.low_priority', 'consumer.normal', 'consumer.urgent', 'control', 'control-plane', 'customer-data', 'dashboard', 'directory', 'fcm-pool', 'inbox', 'job-reaper', 'live-hub', 'meter-data', 'meters', 'node-registry', 'notification-jobs', 'objects', 'on-call', 'outbox-relay', 'postgres', 'queue-pauses', 'reference', 'request-janitor', 'requests', 'sic-registrar', 'sms', 'source-bi_ods', 'source-histh2mc', 'source-sic']);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query(`SELECT queue FROM notification_types WHERE code = 'outage'`);
      await client.end();
      expect(rows).toEqual([{ queue: 'urgent' }]);
    } finally {
      await node.stop();
      await db.drop();
    }
  });

  it('holds a lend asked while its first connection and the migrations run, and answers it once they are done', async () => {
    const db = await createEmptyDatabase();
    const node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: undefined });
    try {
      // Asked at once: the migrations of an empty database are still running.
      expect(partState(node, 'postgres')).toBe('backing-off');
      const handle = await node.runtime.ask<PostgresMessage, 'lend'>('postgres', 'lend', {}, 60_000);
      const { rows } = await handle.query<{ queue: string }>(`SELECT queue FROM notification_types WHERE code = 'outage'`);
      expect(rows).toEqual([{ queue: 'urgent' }]);
    } finally {
      await node.stop();
      await db.drop();
    }
  });

  describe('when its server stops', () => {
    let server: PrivatePostgres;
    let node: RunningNode;
    beforeAll(async () => {
      server = await startPrivatePostgres();
      node = await startTestNode({ DATABASE_URL: server.url });
      await waitFor('postgres running', () => partState(node, 'postgres') === 'running');
      await untilReady(node, 'ready before the stop');
    });
    afterAll(async () => {
      await node?.stop();
      await server?.destroy();
    });

    it('reports 503 naming postgres, answers DATABASE_UNAVAILABLE at once, and recovers without a restart', async () => {
      await server.stop();
      await waitFor('postgres backing off', () => partState(node, 'postgres') === 'backing-off', 20_000);
      const res = await fetch(`${node.apiUrl}/health/ready`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await res.json()) as { code: string; detail: string };
      expect(problem.code).toBe('NOT_READY');
      expect(problem.detail).toMatch(/postgres/);
      await expect(node.runtime.ask<ReferenceMessage, 'notification-types'>('reference', 'notification-types', {}, 60_000)).rejects.toMatchObject({
        code: 'DATABASE_UNAVAILABLE',
      });

      await server.start();
      await waitFor('postgres running again', () => partState(node, 'postgres') === 'running', 20_000);
      await untilReady(node, 'ready again');
      const pgNode = node.runtime.tree().children!.find((c) => c.name === 'resources')!.children!.find((c) => c.name === 'postgres')!;
      // An outage is state, not a crash: the restart budget is untouched.
      expect(pgNode.stats).toMatchObject({ crashes: 0, restarts: 0 });
    });
  });
});

describe('redis cache resource', () => {
  let redis: PrivateRedis;
  let db: TestDatabase;
  let node: RunningNode;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = await createTestDatabase();
    node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: redis.url });
    await waitFor('cache running', () => partState(node, 'cache') === 'running');
    await untilReady(node, 'ready before the kill');
    await waitFor('postgres running', () => partState(node, 'postgres') === 'running');
  });
  afterAll(async () => {
    await node?.stop();
    await redis?.stop();
    await db?.drop();
  });

  const types = () => node.runtime.ask<ReferenceMessage, 'notification-types'>('reference', 'notification-types', {}, 5_000);
  const cacheStats = async () => (await node.runtime.ask<CacheMessage, 'lend'>('cache', 'lend', {}, 1_000) as Cache).stats;

  it('keeps serving callers while Redis is killed, counts the cache errors, and reconnects when it returns', async () => {
    const first = await types();
    expect(first.find((t) => t.code === 'campaign')).toMatchObject({ queue: 'low_priority' });
    await types();
    expect((await cacheStats()).hits).toBeGreaterThanOrEqual(1);

    await redis.kill();
    await waitFor('cache backing off', () => partState(node, 'cache') === 'backing-off');
    const errorsBefore = (await cacheStats()).errors;
    for (let i = 0; i < 3; i++) expect(await types()).toEqual(first);
    expect((await cacheStats()).errors).toBeGreaterThan(errorsBefore);
    // The cache is optional for readiness: the node stays ready while it is bypassed.
    const ready = await fetch(`${node.apiUrl}/health/ready`);
    expect(ready.status).toBe(200);

    await redis.start();
    await waitFor('cache running again', () => partState(node, 'cache') === 'running', 20_000);
    const hitsBefore = (await cacheStats()).hits;
    await types();
    await types();
    expect((await cacheStats()).hits).toBeGreaterThan(hitsBefore);
    const cacheNode = node.runtime.tree().children!.find((c) => c.name === 'resources')!.children!.find((c) => c.name === 'cache')!;
    expect(cacheNode.stats).toMatchObject({ crashes: 0, restarts: 0 });
  });
});
