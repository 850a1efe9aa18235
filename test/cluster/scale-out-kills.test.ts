// Issue 14's first scenario: a broadcast to 20,000 devices through the load balancer, two API and two worker
// processes, on the three-node RabbitMQ cluster; during it one RabbitMQ node is SIGKILLed, then one worker, then one
// API process. Witnesses independent of the product: the fake FCM's record of every send request received (per
// token), RabbitMQ's management API (which node held the product's connections), HAProxy's own counters and request
// log (which server answered what, which requests a dead server cut off), the traffic generator's own count of
// answers, and the job's row read with SQL.
//
// The broadcast is paced by the shared FCM rate limit (FCM_RATE_PER_MINUTE, in Redis) so that it lasts long enough
// for three kills, each one seen to hurt (work in flight at the moment) and each one followed by progress.
//
// First, on the same world before the broadcast: the control plane across the cluster's nodes (processes placed on
// different RabbitMQ nodes by BROKER_FIRST_NODE, a command and its answer crossing them).
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNode, RestartOutcome } from '../../src/contracts/control-plane-messages.js';
import { postJob, seedCustomers, waitJobsSettled } from '../support/dispatch.js';
import { startTraffic } from '../support/http-traffic.js';
import { startRabbitCluster, type RabbitCluster } from '../support/rabbit-cluster.js';
import { API_IDS, LB_SERVER, startScaleOutWorld, type ApiId, type ScaleOutWorld, type WorkerId } from '../support/scale-out.js';
import { batchesInFlight, busiestNode, connectionsMovedOff, controlConnectionNodes, expectBroadcastComplete, progressBy } from '../support/scale-out-witnesses.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const DEVICES = 20_000;
/** Sends per second across both workers: 20,000 devices take ~50 s, room for three kills and their recoveries. */
const RATE_PER_SECOND = 400;
/** Requests the traffic generator keeps in flight through the load balancer. */
const TRAFFIC_CONCURRENCY = 4;

let cluster: RabbitCluster;
let world: ScaleOutWorld;

beforeAll(async () => {
  cluster = await startRabbitCluster();
  world = await startScaleOutWorld({
    amqpUrl: cluster.amqpUrlList,
    env: { FCM_RATE_PER_MINUTE: String(RATE_PER_SECOND * 60), BROKER_QUORUM_GROUP_SIZE: '3' },
  });
}, 300_000);
afterAll(async () => {
  await world?.close();
  await cluster?.stop();
}, 120_000);

describe('scale-out: the control plane on the three-node cluster', () => {
  it('runs one control plane across the cluster’s nodes: each API lists all four processes, and a restart sent through api-1 is done by worker-1 on another node', async () => {
    // RabbitMQ's own view of where each process's control connection is (BROKER_FIRST_NODE spreads them).
    const onNode = await waitFor('the four control connections open', async () => {
      const byProcess = await controlConnectionNodes(cluster, 0).catch(() => new Map<string, string>());
      return byProcess.size === 4 ? byProcess : undefined;
    }, 30_000);
    expect(new Set(onNode.values()).size, `RabbitMQ nodes of the control connections: ${JSON.stringify([...onNode])}`).toBeGreaterThan(1);
    expect(onNode.get('worker-1'), 'worker-1 on another RabbitMQ node than api-1').not.toBe(onNode.get('api-1'));
    const admin = (id: ApiId, path: string, body?: unknown): Promise<Response> =>
      fetch(`${world.apis.get(id)!.apiUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${world.admin}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    // Snapshots cross the nodes: each API shows all four processes, each with a snapshot of its tree.
    for (const id of API_IDS) {
      await waitFor(`${id} lists the four processes with their snapshots`, async () => {
        const { nodes } = (await (await admin(id, '/admin/nodes')).json()) as { nodes: ClusterNode[] };
        return nodes.map((n) => n.node).sort().join() === 'api-1,api-2,worker-1,worker-2' && nodes.every((n) => n.snapshotAgeMs !== null);
      }, 30_000);
    }
    // A command addressed to worker-1 goes from api-1's node to worker-1's; worker-1's answer comes back, and its own
    // /metrics counts the restart.
    const restarts = async (): Promise<number> => {
      const text = await (await fetch(`${world.workers.get('worker-1')!.opsUrl}/metrics`)).text();
      return Number(text.split('\n').find((l) => l.startsWith('samaconso_actor_restarts_total{actor="consumers"} '))?.split(' ').at(-1) ?? Number.NaN);
    };
    const before = await restarts();
    const res = await admin('api-1', '/admin/supervisors/consumers/restart', { reason: 'control plane across the cluster', node: 'worker-1' });
    const outcome = (await res.json()) as RestartOutcome;
    expect(res.status, JSON.stringify(outcome)).toBe(202);
    expect(outcome.results).toEqual([expect.objectContaining({ node: 'worker-1', outcome: 'ok', result: { restarted: 'consumers' } })]);
    await waitFor('worker-1 counts one restart of its consumers', async () => (await restarts()) === before + 1, 15_000);
  }, 120_000);
});

describe('scale-out: a 20,000-device broadcast survives a RabbitMQ node, a worker and an API process killed in turn', () => {
  it('every device gets it, duplicates stay within the batches in flight at each kill, the job settles right, and only requests in flight on the killed API fail', async () => {
    const { users } = await seedCustomers(world.sql, DEVICES, { devices: 1, agency: 'SCALE', prefix: 'scale' });
    const customer = await mintToken({ role: 'customer', sub: users[0]! });
    const traffic = startTraffic(world.lb.url, customer, { path: '/v1/me/notifications', concurrency: TRAFFIC_CONCURRENCY });
    const jobId = await postJob(world.lb.url, world.admin, { target: { kind: 'agency', agency: 'SCALE' }, type: 'planned_works', title: 'Travaux', body: 'Coupure programmée dans votre quartier.' });
    const inFlightAtKills: number[] = [];

    // 1. The RabbitMQ node serving the most of the product's connections, so the kill cuts work in flight. Batches in
    //    flight at it: every unfinished claim of the job (whichever worker holds it), read just before and just after
    //    the kill, the larger count kept.
    await progressBy(world, 2_000, 'the broadcast under way', jobId);
    const victim = await busiestNode(cluster);
    expect(victim.connections, 'product connections on the RabbitMQ node killed').toBeGreaterThan(0);
    const claimsBeforeNodeKill = await batchesInFlight(world, jobId);
    await cluster.kill(victim.index);
    inFlightAtKills.push(Math.max(claimsBeforeNodeKill, await batchesInFlight(world, jobId)));
    await connectionsMovedOff(cluster, victim.index, victim.total);
    await progressBy(world, 2_000, 'after the RabbitMQ node kill', jobId);

    // 2. A worker holding batches of the job (its claims say so). Batches in flight at its death: its own unfinished
    //    claims, read once it is dead (they stay as they were until its heartbeat lapses and another worker takes
    //    them over) — the only batches another worker may send again.
    const holder = await world.sql.query<{ node_id: WorkerId; incarnation: string }>(
      `SELECT n.node_id, n.incarnation FROM batch_claims c JOIN nodes n ON n.incarnation = c.holder WHERE c.job_id = $1 AND c.expires_at <> 'infinity' AND n.role = 'worker' LIMIT 1`,
      [jobId],
    );
    const worker = holder.rows[0]?.node_id;
    expect(worker, 'a worker holding batches of the job').toBeDefined();
    await world.kill(worker!);
    const heldByDead = await batchesInFlight(world, jobId, holder.rows[0]!.incarnation);
    expect(heldByDead, `batches ${worker} held unfinished when it died`).toBeGreaterThan(0);
    inFlightAtKills.push(heldByDead);
    await progressBy(world, 2_000, `after ${worker} was killed`, jobId);

    // 3. An API process, with the traffic's requests in flight on it.
    expect(world.lb.requests().filter((r) => r.server === LB_SERVER['api-1']).length, 'requests api-1 served before its kill').toBeGreaterThan(0);
    expect(world.fcm.fake.deliveredTokens().size, 'devices answered before the API kill: the broadcast still under way').toBeLessThan(DEVICES);
    const apiKilledAt = performance.now();
    await world.kill('api-1');
    // Requests sent until the process is gone (its exit seen) may have reached it.
    const apiGoneAt = performance.now();
    await world.lb.awaitServer(LB_SERVER['api-1'], 'DOWN');

    await waitJobsSettled(world.sql, [jobId], 300_000);
    const report = await traffic.stop();
    const { duplicates, bound } = await expectBroadcastComplete(world, jobId, DEVICES, inFlightAtKills);
    // The witness of the requests in flight on api-1 when it died is HAProxy's log: each request a server cut off it
    // answered 502 and logged with termination SH (the traffic opens a connection per request, so none is dropped
    // silently on a reused connection: test/support/http-traffic.ts).
    const servers = await world.lb.servers();
    const failedAtLb = world.lb.requests().filter((r) => r.status >= 500 || r.status < 0 || r.termination.startsWith('S'));
    const cutOnKilledApi = failedAtLb.filter((r) => r.server === LB_SERVER['api-1']);
    console.log(`[scale-out kills] duplicates ${duplicates} (bound ${bound}); traffic ok ${report.ok}, failed ${report.failures.length} (${report.failures.map((f) => `${f.status} ${f.error ?? ''} sent ${Math.round(apiGoneAt - f.sentAt)} ms before api-1 was gone`).join('; ')}); HAProxy logged ${failedAtLb.length} failed (${failedAtLb.map((r) => `${r.server} ${r.status} ${r.termination}`).join(', ')}); ${servers.map((s) => `${s.name} ${s.sessions} requests`).join(', ')}`);
    // HTTP: the only failures are the requests in flight on api-1 when it died — exactly those HAProxy logged as cut
    // there (at most the traffic's concurrency), none anywhere else, each sent before api-1 was gone and failed at its
    // kill or after (never during the RabbitMQ or worker kill).
    expect(report.ok).toBeGreaterThan(0);
    for (const r of failedAtLb) expect(r.server, `${r.method} ${r.path} answered ${r.status} (${r.termination})`).toBe(LB_SERVER['api-1']);
    expect(cutOnKilledApi.length, 'requests HAProxy logged cut on api-1').toBeLessThanOrEqual(TRAFFIC_CONCURRENCY);
    expect(report.failures.length, `failed requests (HAProxy logged ${cutOnKilledApi.length} cut on api-1)`).toBe(cutOnKilledApi.length);
    for (const f of report.failures) {
      expect(f.sentAt, `a failed request (${f.status} ${f.error ?? ''}) sent before api-1 was gone`).toBeLessThan(apiGoneAt);
      expect(f.failedAt, `a failed request (${f.status} ${f.error ?? ''}) failed after api-1 was killed`).toBeGreaterThanOrEqual(apiKilledAt);
    }
  }, 900_000);
});
