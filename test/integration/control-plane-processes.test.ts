// The control plane across two processes over RabbitMQ's control exchange: an API node in the test process and a
// worker in its own process (killed and restarted for real). Commands are sent to the API and must reach the worker.
// Witnesses independent of the API's answers: the worker's own /metrics (its restart counters), RabbitMQ's own
// counts (rabbitmqctl: consumers and ready messages per queue), the fake FCM's record of every push received, and
// the operations_audit and nodes rows read with SQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNode, NodeTree, RestartOutcome } from '../../src/contracts/control-plane-messages.js';
import type { TreeNode } from '../../src/contracts/supervision.js';
import type { RunningNode } from '../../src/node.js';
import { privateAdminRoutes, statusesFor } from '../support/admin-routes.js';
import { adminToken, postJob, seedCustomers, startFcmWorld, type FcmWorld } from '../support/dispatch.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost, rabbitmqctl, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';
import { startNodeProcess, type NodeProcess } from '../support/worker-process.js';

const API = 'api-1';
const WORKER = 'worker-1';
const HEARTBEAT_MS = 300;
const STALE_AFTER_MS = 1_500;

let db: TestDatabase;
let sql: pg.Pool;
let vhost: TestVhost;
let fcm: FcmWorld;
let api: RunningNode;
let worker: NodeProcess | undefined;
let admin: string;
let adminId: string;
let workerEnv: Record<string, string>;

const startWorker = async (): Promise<NodeProcess> => {
  const w = await startNodeProcess('worker', { ...workerEnv, NODE_ID: WORKER });
  worker = w;
  await waitFor('worker ready', async () => (await fetch(`${w.opsUrl}/health/ready`)).status === 200, 60_000).catch((e: unknown) => {
    throw new Error(`${String(e)}; output:\n${w.output().slice(-3000)}`);
  });
  return w;
};

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  vhost = await createTestVhost();
  // The FCM pool restart's pushes answer slowly, so the restart lands with sends in flight.
  fcm = await startFcmWorld({ latencyMs: (m) => (m.token?.startsWith('fcmrestart') ? 400 : 0) });
  const shared = {
    DATABASE_URL: db.url,
    REDIS_URL: servicesEnv().TEST_REDIS_URL,
    AMQP_URL: vhost.url,
    NODE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    NODE_STALE_AFTER_MS: String(STALE_AFTER_MS),
    CONTROL_SNAPSHOT_MS: '300',
    CONTROL_COMMAND_TIMEOUT_MS: '15000',
    BROKER_RETRY_TIERS_MS: '200,400,800',
    FCM_POOL_THREADS: '1',
    FCM_URGENT_THREADS: '1',
  };
  api = await startTestNode({ ...shared, ROLE: 'api', NODE_ID: API });
  await waitFor('api ready', () => api.runtime.readiness('test').ready, 30_000);
  workerEnv = { ...shared, ...fcm.env };
  await startWorker();
  admin = await adminToken(sql);
  adminId = JSON.parse(Buffer.from(admin.split('.')[1]!, 'base64url').toString()).sub as string;
}, 120_000);
afterAll(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await worker?.exited;
  await api?.stop();
  await fcm?.close();
  await vhost?.delete();
  await sql?.end();
  await db?.drop();
}, 60_000);

const get = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${api.apiUrl}${path}`, { headers: { authorization: `Bearer ${admin}` } });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
};
const post = (path: string, body: unknown, token = admin) =>
  fetch(`${api.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

const find = (tree: TreeNode, name: string): TreeNode | undefined => (tree.name === name ? tree : tree.children?.map((c) => find(c, name)).find(Boolean));

/** The worker's tree as the API shows it, once its snapshot is in. */
const workerTree = async (): Promise<TreeNode> => (await get<{ nodes: NodeTree[] }>(`/admin/supervisors?node=${WORKER}`)).nodes[0]!.tree;

/** One series of the worker's own /metrics. */
const workerMetric = async (series: string): Promise<number> => {
  const text = await (await fetch(`${worker!.opsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
};
const consumersRestarts = () => workerMetric('samaconso_actor_restarts_total{actor="consumers"}');
const fcmRestarts = () => workerMetric('samaconso_actor_restarts_total{actor="fcm"}');

interface QueueCounts {
  ready: number;
  consumers: number;
}
/** RabbitMQ's own counts for the test's vhost. */
const queueCounts = async (queue: string): Promise<QueueCounts | undefined> => {
  const out = await rabbitmqctl(['list_queues', '-p', vhost.name, 'name', 'messages_ready', 'consumers', '--formatter', 'json']);
  const row = (JSON.parse(out || '[]') as Array<{ name: string; messages_ready: number; consumers: number }>).find((r) => r.name === queue);
  return row && { ready: row.messages_ready, consumers: row.consumers };
};

const auditRow = async (id: string) =>
  (await sql.query<{ at: Date; actor_user_id: string; actor_role: string; action: string; target: string; node: string | null; reason: string; outcome: string }>(
    `SELECT at, actor_user_id, actor_role, action, target, node, reason, outcome FROM operations_audit WHERE id = $1`,
    [id],
  )).rows[0];

/** Sends a job to `userIds` of a type on the given queue; returns its id. */
const job = (userIds: string[], type: 'outage' | 'planned_works') => postJob(api.apiUrl!, admin, { target: { kind: 'users', userIds }, type, title: 'Avis', body: 'Avis aux clients.' });
const received = (token: string) => fcm.fake.requestsReceived(token);

describe('the control plane across an api and a worker process', () => {
  it('shows both nodes from the registry and the worker’s tree from its snapshots', async () => {
    const nodes = await waitFor('both nodes listed with snapshots', async () => {
      const { nodes } = await get<{ nodes: ClusterNode[] }>('/admin/nodes');
      return nodes.length === 2 && nodes.every((x) => x.snapshotAgeMs !== null) ? nodes : undefined;
    }, 30_000);
    expect(nodes.map((x) => [x.node, x.role]).sort()).toEqual([
      [API, 'api'],
      [WORKER, 'worker'],
    ]);
    expect(nodes.find((x) => x.node === WORKER)!.pid).toBe(worker!.child.pid);
    const tree = await workerTree();
    const consumers = find(tree, 'consumers')?.children ?? [];
    expect(consumers.map((c) => c.name).sort()).toEqual(['consumer-high_priority', 'consumer-low_priority', 'consumer-normal', 'consumer-urgent']);
    expect(consumers.map((c) => c.stats.state)).toEqual(['running', 'running', 'running', 'running']);
  }, 60_000);

  it('restarts the worker’s consumers from the api while requests are fired: all succeed, no queued message is lost, and the audit says who, when and why', async () => {
    const { users, tokens } = await seedCustomers(sql, 60, { devices: 1, prefix: 'restart' });
    const before = await consumersRestarts();
    expect(before).toBeGreaterThanOrEqual(0);
    const startedAt = Date.now();
    // Jobs before, during and after the restart: each one a user, on the urgent and low-priority queues.
    const fire = (from: number, to: number) => Promise.all(users.slice(from, to).map((u, i) => job([u], i % 2 === 0 ? 'outage' : 'planned_works')));
    const first = fire(0, 20);
    const restart = post('/admin/supervisors/consumers/restart', { reason: 'consumers stuck after a broker blip', node: WORKER });
    const during = fire(20, 40);
    const reads = Promise.all(Array.from({ length: 20 }, () => fetch(`${api.apiUrl}/v1/notification-types`, { headers: { authorization: `Bearer ${admin}` } }).then((r) => r.status)));
    const [res, jobs1, jobs2, statuses] = await Promise.all([restart, first, during, reads]);
    const jobs3 = await fire(40, 60);
    const outcome = (await res.json()) as RestartOutcome;
    expect(res.status, JSON.stringify(outcome)).toBe(202);
    expect(outcome.results).toEqual([expect.objectContaining({ node: WORKER, outcome: 'ok', result: { restarted: 'consumers' } })]);
    expect([...jobs1, ...jobs2, ...jobs3]).toHaveLength(60);
    expect(statuses.every((s) => s === 200)).toBe(true);

    // The worker's own counter, not the API's word.
    await waitFor('the worker counts one restart of consumers', async () => (await consumersRestarts()) === before + 1, 15_000);
    const row = await auditRow(outcome.auditId);
    expect(row).toMatchObject({ actor_user_id: adminId, actor_role: 'admin', action: 'supervisor.restart', target: 'consumers', node: WORKER, reason: 'consumers stuck after a broker blip', outcome: 'ok' });
    expect(row!.at.getTime()).toBeGreaterThanOrEqual(startedAt - 5_000);

    // Every queued push reached FCM: one per seeded token, none lost by the restart.
    await waitFor('every token received at the fake FCM', () => tokens.every((t) => received(t) >= 1), 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${tokens.filter((t) => received(t) === 0).length} of ${tokens.length} never received`);
    });
  }, 120_000);

  it('restarts the worker’s FCM pool from the api mid-send: the pool is back running, every token received, the consumers untouched', async () => {
    const { users, tokens } = await seedCustomers(sql, 40, { devices: 1, prefix: 'fcmrestart' });
    const [fcmBefore, consumersBefore] = [await fcmRestarts(), await consumersRestarts()];
    expect(fcmBefore).toBeGreaterThanOrEqual(0);
    await Promise.all(users.map((u, i) => job([u], i % 2 === 0 ? 'outage' : 'planned_works')));
    // Sends are under way (the fake saw some, each answered after 400 ms), not all of them done.
    await waitFor('the first pushes at the fake', () => tokens.some((t) => received(t) >= 1), 30_000);
    const res = await post('/admin/supervisors/fcm/restart', { reason: 'FCM sender threads wedged', node: WORKER });
    const seenAtRestart = tokens.filter((t) => received(t) >= 1).length;
    const outcome = (await res.json()) as RestartOutcome;
    expect(res.status, JSON.stringify(outcome)).toBe(202);
    expect(outcome.results).toEqual([expect.objectContaining({ node: WORKER, outcome: 'ok', result: { restarted: 'fcm' } })]);
    expect(seenAtRestart).toBeLessThan(tokens.length);

    // The worker's own counters: fcm restarted once, consumers not at all; its tree shows the pool running again.
    await waitFor('the worker counts one restart of fcm', async () => (await fcmRestarts()) === fcmBefore + 1, 15_000);
    expect(await consumersRestarts()).toBe(consumersBefore);
    await waitFor('the pool running in the worker’s snapshot', async () => find(await workerTree(), 'fcm-pool')?.stats.state === 'running', 15_000);
    expect((await auditRow(outcome.auditId))).toMatchObject({ action: 'supervisor.restart', target: 'fcm', node: WORKER, reason: 'FCM sender threads wedged', outcome: 'ok' });

    // What the pool held when it stopped went back to RabbitMQ and was sent after: every token reached the fake.
    await waitFor('every token received at the fake FCM', () => tokens.every((t) => received(t) >= 1), 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${tokens.filter((t) => received(t) === 0).length} of ${tokens.length} never received`);
    });
  }, 120_000);

  it('pauses low_priority on the worker from the api: urgent keeps flowing, the pause survives a worker restart, resume drains it', async () => {
    const { users, tokens } = await seedCustomers(sql, 4, { devices: 1, prefix: 'pause' });
    await waitFor('low_priority consumed', async () => (await queueCounts('low_priority'))?.consumers === 1, 30_000);
    const paused = await post('/admin/queues/low_priority/pause', { reason: 'campaign shares the FCM quota' });
    expect(paused.status).toBe(200);
    // The answer says how each node's consumers took it, the worker among them.
    expect(await paused.json()).toMatchObject({ queue: 'low_priority', paused: true, applyError: null, applied: expect.arrayContaining([{ node: WORKER, outcome: 'ok' }]) });
    // RabbitMQ's witness: the worker cancelled its low_priority consumer, kept the urgent one.
    await waitFor('no low_priority consumer', async () => (await queueCounts('low_priority'))?.consumers === 0, 15_000);
    expect((await queueCounts('urgent'))?.consumers).toBe(1);
    const audit = await sql.query<{ actor_user_id: string; outcome: string; detail: { results: { node: string; outcome: string }[] } }>(
      `SELECT actor_user_id, outcome, detail FROM operations_audit WHERE action = 'queue.pause' ORDER BY id DESC LIMIT 1`,
    );
    expect(audit.rows[0]).toMatchObject({ actor_user_id: adminId, outcome: 'ok' });
    expect(audit.rows[0]!.detail.results).toEqual(expect.arrayContaining([expect.objectContaining({ node: WORKER, outcome: 'ok' })]));

    await job([users[0]!], 'planned_works');
    await job([users[1]!], 'outage');
    await waitFor('urgent received', () => received(tokens[1]!) >= 1, 30_000);
    await waitFor('the low job waits in its queue', async () => ((await queueCounts('low_priority'))?.ready ?? 0) >= 1, 15_000);
    expect(received(tokens[0]!)).toBe(0);

    // A new worker process (a deploy, a crash): it reads the pause at start.
    worker!.child.kill('SIGTERM');
    expect((await worker!.exited).code).toBe(0);
    await startWorker();
    await waitFor('urgent consumed by the new worker', async () => (await queueCounts('urgent'))?.consumers === 1, 15_000);
    await job([users[2]!], 'outage');
    await waitFor('urgent received after the restart', () => received(tokens[2]!) >= 1, 30_000);
    expect((await queueCounts('low_priority'))?.consumers).toBe(0);
    expect(received(tokens[0]!)).toBe(0);

    const resumed = await post('/admin/queues/low_priority/resume', { reason: 'campaign over' });
    expect(resumed.status).toBe(200);
    await waitFor('the paused low job delivered after resume', () => received(tokens[0]!) >= 1, 30_000);
    let last: QueueCounts | undefined;
    await waitFor('low_priority consumed again', async () => (last = await queueCounts('low_priority'))?.consumers === 1, 15_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: RabbitMQ counts ${JSON.stringify(last)}; worker output:\n${worker!.output().slice(-3000)}`);
    });
  }, 180_000);

  it('answers 403 to a customer or an agent on every /admin route of the route catalogue', async () => {
    const keys = privateAdminRoutes().map((r) => r.key);
    expect(keys.length).toBeGreaterThan(5);
    for (const role of ['customer', 'agent'] as const) expect(await statusesFor(api.apiUrl!, role), role).toEqual(Object.fromEntries(keys.map((k) => [k, 403])));
  });

  it('drops a SIGKILLed worker from /admin/nodes once the registry takes it for gone, not before', async () => {
    await waitFor('worker listed', async () => (await get<{ nodes: ClusterNode[] }>('/admin/nodes')).nodes.some((x) => x.node === WORKER), 15_000);
    const { rows } = await sql.query<{ incarnation: string }>(`SELECT incarnation FROM nodes WHERE node_id = $1 AND stopped_at IS NULL`, [WORKER]);
    expect(rows).toHaveLength(1);
    worker!.child.kill('SIGKILL');
    await worker!.exited;
    await waitFor('worker gone from /admin/nodes', async () => !(await get<{ nodes: ClusterNode[] }>('/admin/nodes')).nodes.some((x) => x.node === WORKER), 30_000);
    // Gone here means expired there: the registry's own rule, read with the database's clock.
    const expired = await sql.query<{ expired: boolean; stopped: boolean }>(`SELECT alive_until <= now() AS expired, stopped_at IS NOT NULL AS stopped FROM nodes WHERE incarnation = $1`, [rows[0]!.incarnation]);
    expect(expired.rows[0]).toEqual({ expired: true, stopped: false });
    const gone = await post('/admin/supervisors/consumers/restart', { reason: 'too late', node: WORKER });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ code: 'NODE_NOT_FOUND', node: WORKER });
  }, 60_000);
});
