// Issue 13, Build 4: /metrics on every role (api, worker, all) parses as Prometheus text and carries each family
// of src/metric-names.ts, and the scrape-time families read the real PostgreSQL and RabbitMQ.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD4_METRICS, type MetricFamily } from '../../src/metric-names.js';
import { SCRAPE_SAMPLE_MS } from '../../src/metrics.js';
import type { RunningNode } from '../../src/node.js';
import { startFcmWorld, type FcmWorld } from '../support/dispatch.js';
import { startTestNode } from '../support/node.js';
import { sampleSum, scrape } from '../support/prometheus-text.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

type Role = 'api' | 'worker' | 'all';
const ROLES: readonly Role[] = ['api', 'worker', 'all'];
const exposedOn = (f: MetricFamily, role: Role) => f.roles === 'all' || role === 'all' || f.roles === role;

describe('/metrics on every role', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let world: FcmWorld;
  let sql: pg.Pool;
  const nodes = new Map<Role, RunningNode>();
  beforeAll(async () => {
    db = await createTestDatabase();
    vhost = await createTestVhost();
    world = await startFcmWorld();
    sql = new pg.Pool({ connectionString: db.url, max: 1 });
    for (const role of ROLES) {
      const node = await startTestNode({ ROLE: role, DATABASE_URL: db.url, AMQP_URL: vhost.url, REDIS_URL: servicesEnv().TEST_REDIS_URL, ...world.env });
      nodes.set(role, node);
      await waitFor(`${role} ready`, () => node.runtime.readiness('test').ready, 30_000);
    }
  }, 120_000);
  afterAll(async () => {
    for (const node of nodes.values()) await node.stop();
    await sql?.end();
    await world?.close();
    await vhost?.delete();
    await db?.drop();
  });

  for (const role of ROLES) {
    it(`${role}: parses and carries each Build 4 family with its type`, async () => {
      const families = await scrape(nodes.get(role)!.opsUrl);
      const missing = BUILD4_METRICS.filter((f) => exposedOn(f, role) && families.get(f.name)?.type !== f.kind).map((f) => f.name);
      expect(missing).toEqual([]);
    });
  }

  it('labels request durations with the route pattern, never the raw path', async () => {
    const node = nodes.get('api')!;
    await fetch(`${node.apiUrl}/v1/notification-types`);
    await fetch(`${node.apiUrl}/v1/no-such-thing/123`);
    const families = await scrape(node.opsUrl);
    const routes = new Set(families.get('samaconso_http_request_duration_seconds')!.samples.map((s) => s.labels.route));
    expect(routes.has('/v1/notification-types')).toBe(true);
    expect(routes.has('unmatched')).toBe(true);
    expect([...routes].some((r) => r?.includes('123'))).toBe(false);
    expect(sampleSum(families, 'samaconso_http_request_duration_seconds_count', { route: '/v1/notification-types', method: 'GET', status: '401' })).toBeGreaterThanOrEqual(1);
  });

  it('reports paused queues, the outbox backlog and the queues RabbitMQ holds', async () => {
    const node = nodes.get('worker')!;
    await sql.query(`INSERT INTO queue_pauses (queue, paused_at, paused_by, reason) VALUES ('low_priority', now(), 'test', 'metrics test')`);
    // The reading is sampled: wait past the interval for the row to show.
    const families = await waitFor(
      'queue_paused to show',
      async () => {
        const f = await scrape(node.opsUrl);
        return sampleSum(f, 'samaconso_queue_paused', { queue: 'low_priority' }) === 1 ? f : undefined;
      },
      SCRAPE_SAMPLE_MS * 4,
    );
    expect(sampleSum(families, 'samaconso_queue_paused', { queue: 'normal' })).toBe(0);
    expect(families.get('samaconso_outbox_backlog')!.samples).toHaveLength(1);
    // Every priority queue is read from RabbitMQ: consumers of the worker and the all node.
    for (const queue of ['urgent', 'high_priority', 'normal', 'low_priority']) {
      expect(families.get('samaconso_queue_messages')!.samples.some((s) => s.labels.queue === queue)).toBe(true);
    }
    expect(sampleSum(families, 'samaconso_queue_consumers', { queue: 'normal' })).toBeGreaterThanOrEqual(1);
  });
});
