// One API node in the test process and N worker processes on one RabbitMQ vhost, one fake FCM and one database.
// Each worker signs its FCM requests with a service account of its own (one FCM project for all), so the fake's
// receipts say which worker sent each message — a witness independent of the workers' own counters.
import amqp from 'amqplib';
import { PRIORITY_QUEUES, type PriorityQueue } from '../../src/domain/priority.js';
import type { RunningNode } from '../../src/node.js';
import { serviceAccountFile, startFcmWorld, type FcmWorld } from './dispatch.js';
import type { FakeFcmOptions } from './fcm/fake-fcm-server.js';
import { metricValue } from './metrics.js';
import { startTestNode } from './node.js';
import { createTestVhost, type TestVhost } from './rabbitmq.js';
import { waitFor } from './wait.js';
import { killNodeProcess, startReadyNodeProcess, type NodeProcess } from './worker-process.js';

export interface FleetWorker {
  readonly nodeId: string;
  readonly process: NodeProcess;
  /** The client_email of its service account: what the fake's receipts name as `client`. */
  readonly client: string;
}

export interface Fleet {
  readonly vhost: TestVhost;
  readonly api: RunningNode;
  readonly fcm: FcmWorld;
  readonly workers: readonly FleetWorker[];
  /** Consumers of each priority queue, RabbitMQ's own count (AMQP queue.declare passive). */
  consumers(): Promise<Record<PriorityQueue, number>>;
  /** Requests of a job the fake received, by the worker whose credential they carried (nodeId → count). */
  receivedBy(jobId: string): Map<string, number>;
  /** One series of a worker's own /metrics (0 when absent). */
  metric(worker: FleetWorker, series: string): Promise<number>;
  stop(): Promise<void>;
}

export interface FleetOptions {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Node ids of the workers, started side by side. */
  readonly workers: readonly string[];
  /** What the API and every worker run with. */
  readonly env?: Record<string, string>;
  /** What only the workers run with. */
  readonly workerEnv?: Record<string, string>;
  readonly fake?: FakeFcmOptions;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const vhost = await createTestVhost();
  const fcm = await startFcmWorld(options.fake);
  const shared = { DATABASE_URL: options.databaseUrl, REDIS_URL: options.redisUrl, AMQP_URL: vhost.url, ...options.env };
  const api = await startTestNode({ ...shared, ROLE: 'api', NODE_ID: 'api-1' });
  const started: FleetWorker[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((w) => killNodeProcess(w.process)));
    await api.stop();
    await fcm.close();
    await vhost.delete();
  };
  try {
    await waitFor('api ready', () => api.runtime.readiness('test').ready, 30_000);
    const projectId = fcm.env.FCM_PROJECT_ID!;
    await Promise.all(
      options.workers.map(async (nodeId) => {
        const env = { ...shared, ...fcm.env, ...options.workerEnv, FCM_CREDENTIALS_FILE: serviceAccountFile(projectId, nodeId) };
        started.push({ nodeId, process: await startReadyNodeProcess('worker', nodeId, env), client: `${nodeId}@${projectId}.iam.gserviceaccount.com` });
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const workers = options.workers.map((id) => started.find((w) => w.nodeId === id)!);
  const nodeOf = new Map(workers.map((w) => [w.client, w.nodeId]));
  return {
    vhost,
    api,
    fcm,
    workers,
    consumers: async () => {
      const conn = await amqp.connect(vhost.url);
      try {
        const ch = await conn.createChannel();
        const counts = {} as Record<PriorityQueue, number>;
        for (const q of PRIORITY_QUEUES) counts[q] = (await ch.checkQueue(q)).consumerCount;
        return counts;
      } finally {
        await conn.close();
      }
    },
    receivedBy: (jobId) => {
      const by = new Map<string, number>();
      for (const r of fcm.fake.receipts()) {
        if (r.jobId !== jobId) continue;
        const node = (r.client && nodeOf.get(r.client)) ?? `unknown client ${r.client}`;
        by.set(node, (by.get(node) ?? 0) + 1);
      }
      return by;
    },
    metric: async (worker, series) => (await metricValue(worker.process, series)) ?? 0,
    stop,
  };
}
