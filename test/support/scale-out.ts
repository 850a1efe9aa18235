// The production layout in one test: two API processes behind HAProxy (ops/deploy/haproxy/haproxy.cfg), two worker
// processes, all on the broker the test gives (the three-node cluster, or the shared node), the fake FCM behind its
// proxy, one PostgreSQL database and the shared Redis. Every part is a real process a test can kill.
import pg from 'pg';
import { adminToken, startFcmWorld, type FcmWorld } from './dispatch.js';
import type { FakeFcmOptions } from './fcm/fake-fcm-server.js';
import { startLoadBalancer, type LoadBalancer, type ServerName } from './load-balancer.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from './services.js';
import { killNodeProcess, startReadyNodeProcess, type NodeProcess } from './worker-process.js';

export const API_IDS = ['api-1', 'api-2'] as const;
export const WORKER_IDS = ['worker-1', 'worker-2'] as const;
export type ApiId = (typeof API_IDS)[number];
export type WorkerId = (typeof WORKER_IDS)[number];
/**
 * The cluster node each process connects to first (BROKER_FIRST_NODE, modulo the nodes in AMQP_URL): spread, so that
 * the control plane is seen crossing nodes and every node serves some. api-1 declares the queues, so their leaders
 * start on its node (RabbitMQ's client-local leader placement); the busiest node is another, holding an API and a
 * worker.
 */
export const FIRST_NODE: Record<ApiId | WorkerId, number> = { 'api-1': 0, 'worker-1': 1, 'api-2': 1, 'worker-2': 2 };
/** Where each API process sits in the load balancer: the blue colour of each API host. */
export const LB_SERVER: Record<ApiId, ServerName> = { 'api-1': 'api1-blue', 'api-2': 'api2-blue' };

export interface ScaleOutOptions {
  /** AMQP_URL of every process: one URL or a comma-separated list of the cluster's nodes. */
  readonly amqpUrl: string;
  /** Added to every process's environment (timings, quorum group size …). */
  readonly env?: Record<string, string>;
  readonly fcm?: FakeFcmOptions;
}

export interface ScaleOutWorld {
  readonly db: TestDatabase;
  readonly sql: pg.Pool;
  readonly fcm: FcmWorld;
  readonly lb: LoadBalancer;
  /** An admin's bearer token (notification jobs are posted with it). */
  readonly admin: string;
  readonly apis: Map<ApiId, NodeProcess>;
  readonly workers: Map<WorkerId, NodeProcess>;
  /** SIGKILLs a process of the world and waits for it to be gone. */
  kill(id: ApiId | WorkerId): Promise<void>;
  close(): Promise<void>;
}

/** The timings every process runs with unless the test overrides them: a dead node is noticed within seconds. */
export const SCALE_OUT_TIMINGS: Record<string, string> = {
  NODE_HEARTBEAT_MS: '500',
  NODE_STALE_AFTER_MS: '2000',
  // Ten minutes: a claim's lease never explains a takeover within a test; only the node registry can.
  DISPATCH_CLAIM_LEASE_MS: '600000',
  BROKER_RETRY_TIERS_MS: '200,400,800',
  DISPATCH_PROGRESS_STEP: '10',
  DISPATCH_PROGRESS_FLUSH_MS: '50',
  FCM_POOL_THREADS: '1',
  FCM_URGENT_THREADS: '1',
  SHUTDOWN_TIMEOUT_MS: '10000',
  LOG_LEVEL: 'warn',
};

export async function startScaleOutWorld(options: ScaleOutOptions): Promise<ScaleOutWorld> {
  const services = servicesEnv();
  const db = await createTestDatabase();
  const sql = new pg.Pool({ connectionString: db.url, max: 4 });
  const fcm = await startFcmWorld(options.fcm);
  const storage: Record<string, string> =
    services.TEST_S3_ENDPOINT && services.TEST_S3_ACCESS_KEY && services.TEST_S3_SECRET_KEY && services.TEST_S3_BUCKET
      ? { S3_ENDPOINT: services.TEST_S3_ENDPOINT, S3_ACCESS_KEY_ID: services.TEST_S3_ACCESS_KEY, S3_SECRET_ACCESS_KEY: services.TEST_S3_SECRET_KEY, S3_BUCKET: services.TEST_S3_BUCKET }
      : {};
  const shared = { DATABASE_URL: db.url, REDIS_URL: services.TEST_REDIS_URL!, AMQP_URL: options.amqpUrl, ...SCALE_OUT_TIMINGS, ...options.env };
  const nodes = options.amqpUrl.split(',').length;
  const placed = (id: ApiId | WorkerId): Record<string, string> => ({ BROKER_FIRST_NODE: String(FIRST_NODE[id] % nodes) });
  const apis = new Map<ApiId, NodeProcess>();
  const workers = new Map<WorkerId, NodeProcess>();
  let lb: LoadBalancer | undefined;
  const close = async (): Promise<void> => {
    await Promise.all([...apis.values(), ...workers.values()].map(killNodeProcess));
    await lb?.close();
    await fcm.close();
    await sql.end();
    await db.drop();
  };
  try {
    // The first API migrates the database; the others start on it once it is ready.
    apis.set('api-1', await startReadyNodeProcess('api', 'api-1', { ...shared, ...storage, ...placed('api-1') }, 90_000));
    const [api2, w1, w2] = await Promise.all([
      startReadyNodeProcess('api', 'api-2', { ...shared, ...storage, ...placed('api-2') }, 90_000),
      startReadyNodeProcess('worker', 'worker-1', { ...shared, ...fcm.env, ...placed('worker-1') }, 90_000),
      startReadyNodeProcess('worker', 'worker-2', { ...shared, ...fcm.env, ...placed('worker-2') }, 90_000),
    ]);
    apis.set('api-2', api2);
    workers.set('worker-1', w1);
    workers.set('worker-2', w2);
    const address = (id: ApiId): string => new URL(apis.get(id)!.apiUrl!).host;
    lb = await startLoadBalancer({ 'api1-blue': address('api-1'), 'api2-blue': address('api-2') });
    await lb.awaitServer('api1-blue', 'UP');
    await lb.awaitServer('api2-blue', 'UP');
    const admin = await adminToken(sql);
    return {
      db,
      sql,
      fcm,
      lb,
      admin,
      apis,
      workers,
      async kill(id) {
        const p = (apis.get(id as ApiId) ?? workers.get(id as WorkerId))!;
        p.child.kill('SIGKILL');
        const { signal } = await p.exited;
        if (signal !== 'SIGKILL') throw new Error(`${id} exited on its own (${signal ?? 'no signal'}) before the kill`);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
