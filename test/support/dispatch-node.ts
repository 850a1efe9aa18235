// One node (role all) wired for dispatch tests: its own database and RabbitMQ vhost, the shared Redis, the FCM
// world (fake FCM behind a CONNECT proxy), a pool for the test's own SQL and an admin token; stop() undoes it all.
import pg from 'pg';
import type { NodeOptions, RunningNode } from '../../src/node.js';
import { adminToken, startFcmWorld, type FcmWorld } from './dispatch.js';
import type { FakeFcmOptions } from './fcm/fake-fcm-server.js';
import { startTestNode } from './node.js';
import { createTestVhost, type TestVhost } from './rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from './services.js';
import { waitFor } from './wait.js';

export interface DispatchNode {
  readonly db: TestDatabase;
  readonly vhost: TestVhost;
  readonly world: FcmWorld;
  readonly node: RunningNode;
  readonly sql: pg.Pool;
  readonly admin: string;
  stop(): Promise<void>;
}

export async function startDispatchNode(options: { fake?: FakeFcmOptions; env?: Record<string, string>; nodeOptions?: NodeOptions } = {}): Promise<DispatchNode> {
  const db = await createTestDatabase();
  const vhost = await createTestVhost();
  const world = await startFcmWorld(options.fake);
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  const node = await startTestNode({ DATABASE_URL: db.url, AMQP_URL: vhost.url, REDIS_URL: servicesEnv().TEST_REDIS_URL, ...options.env, ...world.env }, options.nodeOptions);
  await waitFor('ready', () => node.runtime.readiness('test').ready, 30_000);
  const admin = await adminToken(sql);
  return {
    db,
    vhost,
    world,
    node,
    sql,
    admin,
    stop: async () => {
      await node.stop();
      await sql.end();
      await world.close();
      await vhost.delete();
      await db.drop();
    },
  };
}
