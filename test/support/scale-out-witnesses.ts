// What the scale-out tests read to judge a fault: the broadcast's progress at the fake FCM, the batches in flight
// (claims not finished), and where RabbitMQ's management API says the product's connections are.
import { expect } from 'vitest';
import { MAX_FANOUT_BATCH } from '../../src/dispatch/fan-out.js';
import { jobRow } from './dispatch.js';
import type { RabbitCluster } from './rabbit-cluster.js';
import type { ScaleOutWorld } from './scale-out.js';
import { waitFor } from './wait.js';

/** Batch claims of the job not finished now: the batches in flight — of one holder (a node incarnation), or of all. */
export async function batchesInFlight(world: ScaleOutWorld, jobId: string, holder?: string): Promise<number> {
  const { rows } = await world.sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM batch_claims WHERE job_id = $1 AND expires_at <> 'infinity' AND ($2::text IS NULL OR holder::text = $2::text)`,
    [jobId, holder ?? null],
  );
  return rows[0]!.n;
}

/**
 * Waits until the fake has received `more` sends beyond what it had when called: the broadcast goes on. When it does
 * not, the error carries what the claims, the job and each process's log say (a stall is diagnosed from the report).
 */
export async function progressBy(world: ScaleOutWorld, more: number, what: string, jobId?: string): Promise<void> {
  const from = world.fcm.fake.stats().received;
  try {
    await waitFor(`${what}: ${more} more sends received`, () => world.fcm.fake.stats().received >= from + more, 120_000);
  } catch (error) {
    throw new Error(`${String(error)}\n${await stateOf(world, jobId)}`);
  }
}

/** The broadcast's state for a failure message: fake FCM counts, the job, its claims by holder, each process's log tail. */
export async function stateOf(world: ScaleOutWorld, jobId: string | undefined): Promise<string> {
  const lines = [`fake FCM: ${JSON.stringify(world.fcm.fake.stats())}`];
  if (jobId) {
    const job = await world.sql.query(`SELECT state, target_count, sent_count, retried_count, failed_count FROM notification_jobs WHERE id = $1`, [jobId]);
    lines.push(`job: ${JSON.stringify(job.rows[0])}`);
    const claims = await world.sql.query(
      `SELECT coalesce(n.node_id, '?') AS node, (c.expires_at = 'infinity') AS finished, count(*)::int AS n
         FROM batch_claims c LEFT JOIN nodes n ON n.incarnation = c.holder WHERE c.job_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
      [jobId],
    );
    lines.push(`claims: ${JSON.stringify(claims.rows)}`);
  }
  for (const [id, p] of [...world.apis, ...world.workers]) lines.push(`--- ${id} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'}):\n${p.output().slice(-2500)}`);
  return lines.join('\n');
}

/** The product's connections (named samaconso-…) as node `askNode`'s management API lists them: name and node. */
async function productConnections(cluster: RabbitCluster, askNode: number): Promise<{ name: string; node: string }[]> {
  const res = await fetch(`${cluster.managementUrls[askNode]}/api/connections?columns=node,client_properties.connection_name`, {
    headers: { authorization: `Basic ${Buffer.from(`${cluster.user}:${cluster.password}`).toString('base64')}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`GET /api/connections on node ${askNode} answered ${res.status}`);
  const rows = (await res.json()) as { node: string; client_properties?: { connection_name?: string } }[];
  return rows.flatMap((r) => (r.client_properties?.connection_name?.startsWith('samaconso') ? [{ name: r.client_properties.connection_name, node: r.node }] : []));
}

/** The product's connections per RabbitMQ node, from node `askNode`'s management API. */
export async function connectionsByNode(cluster: RabbitCluster, askNode: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { node } of await productConnections(cluster, askNode)) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}

/** The RabbitMQ node of each process's control-bus connection (named samaconso-control-<role>:<node id>), by node id. */
export async function controlConnectionNodes(cluster: RabbitCluster, askNode: number): Promise<Map<string, string>> {
  const byProcess = new Map<string, string>();
  for (const { name, node } of await productConnections(cluster, askNode)) {
    const m = /^samaconso-control-\w+:(.+)$/.exec(name);
    if (m) byProcess.set(m[1]!, node);
  }
  return byProcess;
}

/** The cluster node serving the most of the product's connections (outside `excluded` node names): a fault there cuts work in flight. */
export async function busiestNode(cluster: RabbitCluster, excluded: ReadonlySet<string> = new Set()): Promise<{ index: number; connections: number; total: number }> {
  const byNode = await connectionsByNode(cluster, 0);
  const [name, connections] = [...byNode.entries()].filter(([node]) => !excluded.has(node)).sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
  return { index: cluster.nodes.findIndex((n) => n.name === name), connections, total: [...byNode.values()].reduce((a, b) => a + b, 0) };
}

/**
 * The busiest node (most product connections) among those that lead none of `queues`: a cut there hits work in
 * flight, while every queue keeps its leader on the majority side. (RabbitMQ 3.10.8 here, with the LEADER of a quorum
 * queue cut off, was seen to nack publishes through the majority for minutes in 2 of 8 runs — see
 * test/cluster/rabbit-cluster.test.ts; a stall of the broker's making, not a guarantee of the product's to prove.)
 */
export async function busiestFollower(cluster: RabbitCluster, queues: readonly string[]): Promise<{ index: number; connections: number; total: number; leaders: string[] }> {
  const leaders = new Set<string>();
  for (const queue of queues) {
    const leader = await waitFor(`a leader for ${queue}`, async () => (await cluster.quorumStatus(queue).catch(() => [])).find((m) => m.raftState === 'leader')?.node, 30_000);
    leaders.add(leader);
  }
  return { ...(await busiestNode(cluster, leaders)), leaders: [...leaders] };
}

/** Waits until `total` product connections are open on the nodes other than `lost` (asked of a node other than it). */
export async function connectionsMovedOff(cluster: RabbitCluster, lost: number, total: number): Promise<void> {
  const ask = cluster.nodes.findIndex((_, i) => i !== lost);
  await waitFor('the product’s connections back on the other nodes', async () => {
    const byNode = await connectionsByNode(cluster, ask).catch(() => new Map<string, number>());
    let off = 0;
    for (const [node, n] of byNode) if (node !== cluster.nodes[lost]!.name) off += n;
    return off >= total;
  }, 90_000);
}

/**
 * The guarantees of a broadcast that went through faults: every device received it (the fake's count per token),
 * duplicates at most the batches in flight at the faults, the job done with every send counted.
 */
export async function expectBroadcastComplete(world: ScaleOutWorld, jobId: string, devices: number, inFlightAtFaults: readonly number[]): Promise<{ duplicates: number; bound: number }> {
  expect(world.fcm.fake.receivedTokens().size, 'devices the fake FCM received a send for').toBe(devices);
  expect(world.fcm.fake.deliveredTokens().size, 'devices answered 200').toBe(devices);
  const bound = inFlightAtFaults.reduce((a, b) => a + b, 0) * MAX_FANOUT_BATCH;
  const duplicates = world.fcm.fake.duplicates();
  expect(duplicates, `duplicates (bound: batches in flight at the faults ${inFlightAtFaults.join(', ')} × ${MAX_FANOUT_BATCH})`).toBeLessThanOrEqual(bound);
  expect(await jobRow(world.sql, jobId)).toMatchObject({ state: 'done', target_count: devices, sent_count: devices, failed_count: 0 });
  return { duplicates, bound };
}
