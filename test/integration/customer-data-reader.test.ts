// CustomerDataReader on a real runtime with Redis: over a twin source actor (migration 0014's tables) and over the
// real mssql driver to the TDS peer. A read is mapped, the same read comes from Redis without a second source query,
// and in an outage (the actor stopped; the peer gone and the circuit open) a cached read past its TTL is answered
// stale with its age while an uncached one fails with a typed 503.
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheActor } from '../../actors/resources/cache-actor.js';
import { postgresActor } from '../../actors/resources/postgres-actor.js';
import { sqlSourceActor } from '../../actors/resources/sql-source-actor.js';
import type { ActorBehaviour, Message } from '../../src/actor-behaviour.js';
import { sourceKey } from '../../src/adapters/cache/stale-reads.js';
import { mssqlPoolFactory } from '../../src/adapters/mssql/source-pool.js';
import { ManualClock, SystemClock } from '../../src/clock.js';
import { CustomerDataReader, contractDetails, readCachePolicy } from '../../src/customer-data/index.js';
import { ERROR_STATUS } from '../../src/errors/error-codes.js';
import { silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { readTwin } from '../support/source-twin.js';
import { seedTwinRows } from '../support/source-twin-rows.js';
import { tdsTestCa } from '../support/tds/test-ca.js';
import { TdsPeer } from '../support/tds/tds-peer.js';
import { waitFor } from '../support/wait.js';

const HOUR = 3_600_000;
const CACHED = { account: '12345678' };
const NEVER_CACHED = { account: '87654321' };
// The cache actor's RedisCache writes under its default prefix.
const redisKey = (input: { account: string }) =>
  `samaconso:cache:${sourceKey('bi_ods', contractDetails.name, readCachePolicy(contractDetails.name).version, { account: input.account.padStart(12, '0') })}`;

/** The real twin source actor, counting the queries it handles; `stop-now` ends it for good (it is temporary). */
function countingSource(probe: { queries: number }): () => ActorBehaviour<unknown, Message> {
  const real = sqlSourceActor({ source: 'bi_ods', mode: { kind: 'twin' }, queryTimeoutMs: 5_000 });
  return () => {
    const inner = real();
    return {
      init: (ctx) => inner.init(ctx as never),
      handle: (state, msg, ctx) => {
        if (msg.type === 'stop-now') {
          ctx.stopSelf();
          return state;
        }
        if (msg.type === 'query') probe.queries++;
        return inner.handle(state as never, msg as never, ctx as never);
      },
    };
  };
}

describe('CustomerDataReader (twin sources, Redis)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let redis: Redis;
  let runtime: Runtime;
  const probe = { queries: 0 };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await seedTwinRows(pool);
    redis = new Redis(servicesEnv().TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    // Entries of an earlier run (same rows, same keys) would answer before the source is asked.
    await redis.del(redisKey(CACHED), redisKey(NEVER_CACHED));
    runtime = new Runtime({ clock: new SystemClock(), log: silentLogger() });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({
            name: 'postgres',
            readiness: 'required',
            behaviour: postgresActor({
              connection: async () => ({ url: db.url, migrationUrl: db.url }),
              poolMax: 2,
              queryTimeoutMs: 5_000,
              migrateOnStart: false,
              applicationName: 'samaconso-test',
            }),
          }),
          actor({ name: 'cache', readiness: 'required', behaviour: cacheActor({ mode: 'redis', url: servicesEnv().TEST_REDIS_URL }) }),
          actor({ name: 'source-bi_ods', restart: 'temporary', readiness: 'optional', behaviour: countingSource(probe) }),
        ],
      }),
    );
    const state = (name: string) => runtime.readiness('test').parts.find((p) => p.name === name)?.state;
    await waitFor('postgres and cache running', () => state('postgres') === 'running' && state('cache') === 'running');
  });

  afterAll(async () => {
    await runtime?.stop();
    await redis?.quit();
    await pool?.end();
    await db?.drop();
  });

  it('reads mapped rows, serves the same read from Redis, and answers an outage stale (cached) or 503 (never cached)', async () => {
    // The reader's own clock ages the entries; Redis keeps them on its own for the whole retention.
    const clock = new ManualClock();
    const reader = new CustomerDataReader({ asker: runtime, clock, queryTimeoutMs: 5_000 });

    const first = await reader.read(contractDetails, CACHED);
    expect(first).toEqual({ rows: await readTwin(pool, contractDetails, CACHED), stale: false, ageMs: 0 });
    expect(first.rows).toEqual([expect.objectContaining({ contractAccount: '12345678', firstName: 'Awa', lastName: 'Diop' })]);
    expect(probe.queries).toBe(1);
    expect(await redis.pttl(redisKey(CACHED))).toBeGreaterThan(readCachePolicy(contractDetails.name).ttlMs);

    clock.advance(10 * 60_000);
    expect(await reader.read(contractDetails, CACHED)).toEqual({ rows: first.rows, stale: false, ageMs: 10 * 60_000 });
    expect(probe.queries).toBe(1);

    runtime.tell('source-bi_ods', { type: 'stop-now' });
    await waitFor('source-bi_ods stopped', () => runtime.readiness('test').parts.find((p) => p.name === 'source-bi_ods')?.state !== 'running');

    clock.advance(HOUR);
    expect(await reader.read(contractDetails, CACHED)).toEqual({ rows: first.rows, stale: true, ageMs: HOUR + 10 * 60_000 });

    // The runtime answers at once for a stopped actor: a typed 503, not a wait for the ask's deadline.
    await expect(reader.read(contractDetails, NEVER_CACHED)).rejects.toMatchObject({ code: 'ACTOR_STOPPED' });
    expect(ERROR_STATUS.ACTOR_STOPPED).toBe(503);
    expect(probe.queries).toBe(1);
  });
});

describe('CustomerDataReader (the T-SQL through mssql to the TDS peer, Redis)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let peerDb: pg.Client;
  let peer: TdsPeer;
  let redis: Redis;
  let runtime: Runtime;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await seedTwinRows(pool);
    // The peer runs the T-SQL it receives over BI_ODS's twin tables (its schema first on the path), in UTC.
    peerDb = new pg.Client({ connectionString: db.url, options: '-c search_path=bi_ods -c TimeZone=UTC' });
    await peerDb.connect();
    const certificate = await tdsTestCa();
    peer = await TdsPeer.start({ db: peerDb, certificate });
    redis = new Redis(servicesEnv().TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.del(redisKey(CACHED), redisKey(NEVER_CACHED));
    runtime = new Runtime({ clock: new SystemClock(), log: silentLogger() });
    const source = sqlSourceActor({
      source: 'bi_ods',
      mode: {
        kind: 'mssql',
        pool: mssqlPoolFactory({
          source: 'bi_ods',
          server: 'localhost',
          port: peer.port,
          database: 'BI_ODS',
          user: 'samaconso_reader',
          password: 'peer-accepts-any-password',
          ca: certificate.caPem,
          connectTimeoutMs: 2_000,
          requestTimeoutMs: 5_000,
          poolMax: 2,
          appName: 'samaconso-test',
        }),
      },
      queryTimeoutMs: 5_000,
      // One failure opens the circuit, and no probe comes within the test: while open, nothing reaches the network.
      failureThreshold: 1,
      backoff: { minMs: 600_000, maxMs: 600_000 },
    });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({ name: 'cache', readiness: 'required', behaviour: cacheActor({ mode: 'redis', url: servicesEnv().TEST_REDIS_URL }) }),
          actor({ name: 'source-bi_ods', readiness: 'optional', behaviour: source }),
        ],
      }),
    );
    const state = (name: string) => runtime.readiness('test').parts.find((p) => p.name === name)?.state;
    await waitFor('cache and source running', () => state('cache') === 'running' && state('source-bi_ods') === 'running');
  });

  afterAll(async () => {
    await runtime?.stop();
    await peer?.close();
    await peerDb?.end();
    await redis?.quit();
    await pool?.end();
    await db?.drop();
  });

  it('reads through the real driver, serves the same read from Redis, and answers stale or SOURCE_UNAVAILABLE once the circuit opens', async () => {
    const clock = new ManualClock();
    const reader = new CustomerDataReader({ asker: runtime, clock, queryTimeoutMs: 5_000 });
    const ranContract = () => peer.stats.queries.filter((q) => q.includes('FKKVKP')).length;

    const first = await reader.read(contractDetails, CACHED);
    expect(first).toEqual({ rows: await readTwin(pool, contractDetails, CACHED), stale: false, ageMs: 0 });
    expect(ranContract()).toBe(1);
    clock.advance(60_000);
    expect(await reader.read(contractDetails, CACHED)).toEqual({ ...first, ageMs: 60_000 });
    expect(ranContract()).toBe(1);

    await peer.refuseConnections();
    clock.advance(HOUR);
    // The connection is cut: the query fails as an outage, the circuit opens, the cached rows are served stale.
    expect(await reader.read(contractDetails, CACHED)).toEqual({ rows: first.rows, stale: true, ageMs: HOUR + 60_000 });
    await waitFor('circuit open', () => runtime.readiness('test').parts.find((p) => p.name === 'source-bi_ods')?.state === 'backing-off');
    const connections = peer.stats.connections;
    await expect(reader.read(contractDetails, NEVER_CACHED)).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'bi_ods' });
    expect(ERROR_STATUS.SOURCE_UNAVAILABLE).toBe(503);
    expect(peer.stats.connections).toBe(connections);
  });
});
