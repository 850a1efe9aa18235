// Issue 14's second scenario: during a broadcast through the load balancer (two API and two worker processes), the
// RabbitMQ node serving the most of the product's connections among those leading none of the four priority queues
// (why not a leader: busiestFollower in scale-out-witnesses.ts) is cut off by its link (the veth in the root
// namespace taken down: no RST, no FIN — the clients learn it from AMQP heartbeats and the cluster from its
// net_ticktime). The cluster runs pause_minority: the cut node pauses itself, the two others go on. The same
// guarantees as the kills: every device gets it, duplicates within the batches in flight at the cut, the job settles
// right, and — no process being killed — no HTTP request to the load balancer fails. The link returns while the
// broadcast still runs: the node rejoins by itself, and the quorum queues' replica on it catches up (RabbitMQ's own
// quorum_status).
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import { postJob, seedCustomers, waitJobsSettled } from '../support/dispatch.js';
import { startTraffic } from '../support/http-traffic.js';
import { startRabbitCluster, type RabbitCluster } from '../support/rabbit-cluster.js';
import { startScaleOutWorld, type ScaleOutWorld } from '../support/scale-out.js';
import { batchesInFlight, busiestFollower, connectionsMovedOff, expectBroadcastComplete, progressBy } from '../support/scale-out-witnesses.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const DEVICES = 20_000;
/**
 * ~80 s of broadcast: the cut noticed (heartbeats), the node paused, the majority seen going on, and the link back
 * before it ends (at 300/s a run healed at ~18,000 of 20,000: too close).
 */
const RATE_PER_SECOND = 250;
/**
 * AMQP heartbeat of the test's clients, in seconds (production: 10): a cut link sends no RST, so a client learns of it
 * from two missed heartbeats; 3 s keeps that well inside the broadcast. Set per node in AMQP_URL (amqplib reads it).
 */
const HEARTBEAT_S = 3;
const TRAFFIC_CONCURRENCY = 4;

let cluster: RabbitCluster;
let world: ScaleOutWorld;

beforeAll(async () => {
  cluster = await startRabbitCluster();
  world = await startScaleOutWorld({
    amqpUrl: cluster.urls.map((u) => `${u}?heartbeat=${HEARTBEAT_S}`).join(','),
    env: { FCM_RATE_PER_MINUTE: String(RATE_PER_SECOND * 60), BROKER_QUORUM_GROUP_SIZE: '3' },
  });
}, 300_000);
afterAll(async () => {
  await world?.close();
  await cluster?.stop();
}, 120_000);

describe('scale-out: a RabbitMQ node cut off by its link during a broadcast', () => {
  it('every device gets it, duplicates stay within the batches in flight at the cut and the heal, no request fails, and the node rejoins by itself mid-broadcast with its replicas caught up', async () => {
    const { users } = await seedCustomers(world.sql, DEVICES, { devices: 1, agency: 'PART', prefix: 'part' });
    const customer = await mintToken({ role: 'customer', sub: users[0]! });
    const traffic = startTraffic(world.lb.url, customer, { path: '/v1/me/notifications', concurrency: TRAFFIC_CONCURRENCY });
    const jobId = await postJob(world.lb.url, world.admin, { target: { kind: 'agency', agency: 'PART' }, type: 'planned_works', title: 'Travaux', body: 'Coupure programmée dans votre quartier.' });

    await progressBy(world, 2_000, 'the broadcast under way', jobId);
    // What each step waited for, in the output: seconds since the job and devices answered by then.
    const startedAt = performance.now();
    const timeline: string[] = [];
    const mark = (step: string): void => {
      timeline.push(`${step} ${((performance.now() - startedAt) / 1000).toFixed(1)} s/${world.fcm.fake.deliveredTokens().size}`);
    };
    const cut = await busiestFollower(cluster, PRIORITY_QUEUES);
    expect(cut.connections, `product connections on the RabbitMQ node cut off (queue leaders: ${cut.leaders.join(', ')})`).toBeGreaterThan(0);
    const inFlightBeforeCut = await batchesInFlight(world, jobId);
    await cluster.cut(cut.index);
    mark('cut');
    const inFlightAtFaults = [Math.max(inFlightBeforeCut, await batchesInFlight(world, jobId))];
    // The majority goes on without it: the product's connections reopen on the two others, the broadcast proceeds,
    // and the cut node pauses itself (pause_minority: its rabbit app stopped, asked from its own namespace).
    await connectionsMovedOff(cluster, cut.index, cut.total);
    mark('connections moved');
    await waitFor(`node ${cut.index + 1} to pause`, async () => (await cluster.ctl(cut.index, ['-q', 'eval', 'rabbit:is_running().'])).trim() === 'false', 60_000);
    mark('paused');
    await progressBy(world, 2_000, 'after the cut', jobId);
    mark('heal');

    // The link returns while the broadcast goes on: the node rejoins by itself under load, never restarted (with the
    // deployment's global-sync watchdog, which undoes RabbitMQ 3.10.8's Erlang global hang when it strikes).
    expect(world.fcm.fake.deliveredTokens().size, 'devices answered before the heal: the broadcast still under way').toBeLessThan(DEVICES);
    inFlightAtFaults.push(await batchesInFlight(world, jobId));
    mark(await cluster.heal(cut.index));
    console.log(`[scale-out partition] node ${cut.index + 1}: ${timeline.join(', ')} (of ${DEVICES} devices)`);

    await waitJobsSettled(world.sql, [jobId], 300_000);
    const report = await traffic.stop();
    const { duplicates, bound } = await expectBroadcastComplete(world, jobId, DEVICES, inFlightAtFaults);
    console.log(`[scale-out partition] duplicates ${duplicates} (bound ${bound}); traffic ok ${report.ok}, failed ${report.failures.length}`);
    expect(report.ok).toBeGreaterThan(0);
    expect(report.failures, 'HTTP requests that failed during the partition').toEqual([]);

    // Each priority queue's replica on the rejoined node catches up with the leader (quorum_status: log and commit
    // index). Leader or follower: a member coming back may win an election (seen here for high_priority).
    for (const queue of PRIORITY_QUEUES) {
      const members = await cluster.replicasCaughtUp(queue);
      expect(['leader', 'follower'], `${queue}'s replica on the rejoined node`).toContain(members.find((m) => m.node === cluster.nodes[cut.index]!.name)?.raftState);
    }
  }, 900_000);
});
