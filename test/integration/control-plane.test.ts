// The control plane in one process (embedded mode: the in-process broker and control bus, no AMQP_URL): the cluster
// view from the node registry and the snapshots, restarts and queue pauses sent through the control plane, each
// recorded in operations_audit. The witnesses are independent of the answers: the runtime's own tree (restart
// counts, consumer states), the `nodes` table, and the audit rows read back with SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerName } from '../../src/dispatch/consumer-messages.js';
import type { ClusterNode, NodeTree, RestartOutcome } from '../../src/contracts/control-plane-messages.js';
import type { TreeNode } from '../../src/contracts/supervision.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import { actorNode } from '../support/node.js';
import { privateAdminRoutes, statusesFor } from '../support/admin-routes.js';
import { waitFor } from '../support/wait.js';

const NODE = 'solo-1';
/** How long a command waits for its node: short, since the ghost node below never answers. */
const COMMAND_TIMEOUT_MS = 800;

let n: DispatchNode;
let adminId: string;
beforeAll(async () => {
  n = await startDispatchNode({ env: { AMQP_URL: '', NODE_ID: NODE, CONTROL_SNAPSHOT_MS: '200', CONTROL_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) } });
  adminId = JSON.parse(Buffer.from(n.admin.split('.')[1]!, 'base64url').toString()).sub as string;
  // The registry's first heartbeat runs beside readiness (the part is optional): the cluster begins there.
  await waitFor('registered', async () => (await n.sql.query(`SELECT 1 FROM nodes WHERE node_id = $1 AND stopped_at IS NULL`, [NODE])).rowCount === 1, 30_000);
}, 120_000);
afterAll(async () => {
  await n?.stop();
});

const get = (path: string, token = n.admin) => fetch(`${n.node.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
const post = (path: string, body: unknown, token = n.admin) =>
  fetch(`${n.node.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface AuditRow {
  id: string;
  at: Date;
  actor_user_id: string;
  actor_role: string;
  action: string;
  target: string;
  node: string | null;
  reason: string;
  outcome: string;
  detail: { results?: { node: string; outcome: string }[]; error?: string };
}
const auditRows = async (action: string): Promise<AuditRow[]> =>
  (await n.sql.query<AuditRow>(`SELECT id::text, at, actor_user_id, actor_role, action, target, node, reason, outcome, detail FROM operations_audit WHERE action = $1 ORDER BY id`, [action])).rows;

const restartsOf = (name: string): number => actorNode(n.node, name)!.stats.restarts;
const find = (tree: TreeNode, name: string): TreeNode | undefined => (tree.name === name ? tree : tree.children?.map((c) => find(c, name)).find(Boolean));

describe('the control plane in one process', () => {
  it('restarts one supervisor of the node that serves the requests fired meanwhile: they all succeed, the rest keeps serving', async () => {
    const before = restartsOf('consumers');
    const reads = (count: number) =>
      Promise.all(Array.from({ length: count }, (_, i) => get(i % 2 === 0 ? '/v1/notification-types' : '/admin/nodes').then((r) => r.status)));
    const first = reads(30);
    const restart = post('/admin/supervisors/consumers/restart', { reason: 'restart under load', node: NODE });
    const during = reads(30);
    const [res, a, b] = await Promise.all([restart, first, during]);
    const after = await reads(30);
    expect(res.status).toBe(202);
    expect([...a, ...b, ...after].filter((status) => status !== 200)).toEqual([]);
    // The runtime's own count, not the route's word.
    await waitFor('consumers restarted once', () => restartsOf('consumers') === before + 1);
    await waitFor('the consumers running again', () => actorNode(n.node, consumerName('urgent'))?.stats.state === 'running');
  });

  it('restarts the supervisor the fired requests go through (services): every request fired across the restart succeeds', async () => {
    const before = restartsOf('services');
    // Eight clients in a loop from before the restart until after it: some requests meet the actors stopping or
    // starting again, and must still be answered (a query the stopping actor never started is sent again).
    let restarted = false;
    const failures: string[] = [];
    let answered = 0;
    const client = async (i: number) => {
      for (let k = 0; !restarted || k < 10; k++) {
        const r = await get(i % 2 === 0 ? '/v1/notification-types' : '/v1/me');
        if (r.status === 200) answered++;
        else failures.push(`${r.status} ${await r.text()}`);
        if (restarted) continue;
      }
    };
    const clients = Promise.all(Array.from({ length: 8 }, (_, i) => client(i)));
    await waitFor('requests answered', () => answered >= 40);
    const res = await post('/admin/supervisors/services/restart', { reason: 'services restart under load', node: NODE });
    restarted = true;
    await clients;
    expect(res.status, await res.text()).toBe(202);
    expect(failures).toEqual([]);
    expect(restartsOf('services')).toBe(before + 1);
  });

  it('lists this node from the registry with the age of its snapshot, and serves its tree', async () => {
    const registered = await n.sql.query<{ incarnation: string }>(`SELECT incarnation FROM nodes WHERE node_id = $1 AND stopped_at IS NULL`, [NODE]);
    expect(registered.rows).toHaveLength(1);
    const nodes = await waitFor('a snapshot of this node', async () => {
      const body = (await (await get('/admin/nodes')).json()) as { nodes: ClusterNode[] };
      return body.nodes.every((x) => x.snapshotAgeMs !== null) && body.nodes.length > 0 ? body.nodes : undefined;
    });
    expect(nodes).toEqual([expect.objectContaining({ node: NODE, role: 'all', incarnation: registered.rows[0]!.incarnation, pid: process.pid })]);
    expect(nodes[0]!.snapshotAgeMs).toBeLessThan(30_000);

    // The tree is the node's latest snapshot (every 200 ms here): one taken while the previous test's restart was
    // still attaching the consumers shows them backing off, so the running state is awaited, not read once.
    const trees = await waitFor('a snapshot with the urgent consumer running', async () => {
      const res = await get('/admin/supervisors');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { nodes: NodeTree[] };
      return find(body.nodes[0]!.tree, consumerName('urgent'))?.stats.state === 'running' ? body.nodes : undefined;
    });
    expect(trees.map((t) => t.node)).toEqual([NODE]);
    expect(find(trees[0]!.tree, 'consumers')?.kind).toBe('supervisor');

    expect((await get(`/admin/supervisors?node=${NODE}`)).status).toBe(200);
    const missing = await get('/admin/supervisors?node=nobody-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'NODE_NOT_FOUND', node: 'nobody-here' });
  });

  it('restarts one supervisor through the control plane, that subtree only, and audits who, when and why', async () => {
    const [consumers, resources] = [restartsOf('consumers'), restartsOf('resources')];
    const before = Date.now();
    const res = await post('/admin/supervisors/consumers/restart', { reason: 'consumers wedged after a broker blip' });
    expect(res.status).toBe(202);
    const outcome = (await res.json()) as RestartOutcome;
    expect(outcome).toMatchObject({ supervisor: 'consumers', reason: 'consumers wedged after a broker blip', results: [{ node: NODE, outcome: 'ok', result: { restarted: 'consumers' } }] });
    expect(restartsOf('consumers')).toBe(consumers + 1);
    expect(restartsOf('resources')).toBe(resources);

    const rows = await auditRows('supervisor.restart');
    const row = rows.find((r) => r.id === outcome.auditId)!;
    expect(row).toMatchObject({ actor_user_id: adminId, actor_role: 'admin', target: 'consumers', node: null, reason: 'consumers wedged after a broker blip', outcome: 'ok' });
    expect(row.detail.results).toEqual([expect.objectContaining({ node: NODE, outcome: 'ok' })]);
    expect(row.at.getTime()).toBeGreaterThanOrEqual(before - 5_000);
    expect(row.at.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);

    // Addressed by node id, the same.
    const addressed = await post('/admin/supervisors/consumers/restart', { reason: 'again, on purpose', node: NODE });
    expect(addressed.status).toBe(202);
    expect(restartsOf('consumers')).toBe(consumers + 2);
    await waitFor('consumers running again', () => actorNode(n.node, consumerName('low_priority'))?.stats.state === 'running', 30_000);
  });

  it('refuses the root, an unknown supervisor and a node not alive, and audits the refused commands too', async () => {
    expect((await post('/admin/supervisors/root/restart', { reason: 'x' })).status).toBe(400);
    const unknown = await post('/admin/supervisors/nope/restart', { reason: 'typo' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'SUPERVISOR_NOT_FOUND' });
    const gone = await post('/admin/supervisors/consumers/restart', { reason: 'old node', node: 'worker-gone' });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ code: 'NODE_NOT_FOUND', node: 'worker-gone' });
    const rows = await auditRows('supervisor.restart');
    expect(rows.find((r) => r.target === 'nope')).toMatchObject({ outcome: 'failed', reason: 'typo', detail: { error: 'SUPERVISOR_NOT_FOUND' } });
    expect(rows.find((r) => r.node === 'worker-gone')).toMatchObject({ outcome: 'failed', actor_user_id: adminId, detail: { error: 'NODE_NOT_FOUND' } });
  });

  it('answers 504 NODE_TIMEOUT naming a node the registry takes for alive that does not answer, and audits the timeout', async () => {
    // A node alive in the registry (its heartbeat fresh) but on no control bus: a process hung or cut off from RabbitMQ.
    await n.sql.query(
      `INSERT INTO nodes (incarnation, node_id, role, host, pid, started_at, heartbeat_at, alive_until, stopped_at)
       VALUES (gen_random_uuid(), 'ghost-1', 'worker', 'elsewhere', 4242, now(), now(), now() + interval '10 minutes', NULL)`,
    );
    try {
      const listed = (await (await get('/admin/nodes')).json()) as { nodes: ClusterNode[] };
      expect(listed.nodes.find((x) => x.node === 'ghost-1')).toMatchObject({ role: 'worker', snapshotAgeMs: null });
      const res = await post('/admin/supervisors/consumers/restart', { reason: 'worker stuck', node: 'ghost-1' });
      expect(res.status).toBe(504);
      expect(await res.json()).toMatchObject({ code: 'NODE_TIMEOUT', node: 'ghost-1', detail: expect.stringContaining('ghost-1') });
      expect((await auditRows('supervisor.restart')).find((r) => r.node === 'ghost-1')).toMatchObject({ outcome: 'timeout', reason: 'worker stuck' });
    } finally {
      await n.sql.query(`DELETE FROM nodes WHERE node_id = 'ghost-1'`);
    }
  });

  it('pauses and resumes a queue on every node through the control plane, each audited with the nodes’ answers', async () => {
    await waitFor('low_priority consuming', () => actorNode(n.node, consumerName('low_priority'))?.stats.state === 'running', 30_000);
    const paused = await post('/admin/queues/low_priority/pause', { reason: 'campaign shares the FCM quota' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ paused: true, applyError: null, applied: [{ node: NODE, outcome: 'ok' }] });
    expect(actorNode(n.node, consumerName('low_priority'))?.stats.state).toBe('paused');
    expect(actorNode(n.node, consumerName('urgent'))?.stats.state).toBe('running');
    const resumed = await post('/admin/queues/low_priority/resume', { reason: 'campaign over' });
    expect(resumed.status).toBe(200);
    await waitFor('low_priority consuming again', () => actorNode(n.node, consumerName('low_priority'))?.stats.state === 'running', 30_000);
    const [pause] = await auditRows('queue.pause');
    const [resume] = await auditRows('queue.resume');
    expect(pause).toMatchObject({ actor_user_id: adminId, target: 'low_priority', reason: 'campaign shares the FCM quota', outcome: 'ok' });
    expect(pause!.detail.results).toEqual([expect.objectContaining({ node: NODE, outcome: 'ok' })]);
    expect(resume).toMatchObject({ actor_user_id: adminId, target: 'low_priority', reason: 'campaign over', outcome: 'ok' });
  });

  it('answers 403 to a customer or an agent on every /admin route of the route catalogue', async () => {
    const keys = privateAdminRoutes().map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining(['GET /admin/nodes', 'GET /admin/supervisors', 'POST /admin/supervisors/:name/restart', 'POST /admin/queues/:name/pause']));
    const restarts = restartsOf('consumers');
    for (const role of ['customer', 'agent'] as const) expect(await statusesFor(n.node.apiUrl!, role), role).toEqual(Object.fromEntries(keys.map((k) => [k, 403])));
    // Nothing they sent did anything.
    expect(restartsOf('consumers')).toBe(restarts);
    expect(await auditRows('queue.pause')).toHaveLength(1);
  });
});
