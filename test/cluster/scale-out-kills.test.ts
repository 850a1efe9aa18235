// Issue 14's first scenario: a broadcast to 20,000 devices through the load balancer, two API and two worker
// processes, on the three-node RabbitMQ cluster; during it one RabbitMQ node is SIGKILLed, then one worker, then one
// API process. Witnesses independent of the product: the fake FCM's record of every send request received (per
// token), RabbitMQ's own CLI (which node held the product's connections), HAProxy's request log (which server
// answered what), the traffic generator's own count of answers, and the job's row read with SQL.
//
// The broadcast is paced by the shared FCM rate limit (FCM_RATE_PER_MINUTE, in Redis) so that it lasts long enough
// for three kills, each one seen to hurt (work in flight at the moment) and each one followed by progress.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJob, seedCustomers, waitJobsSettled } from '../support/dispatch.js';
import { startTraffic } from '../support/http-traffic.js';
import { startRabbitCluster, type RabbitCluster } from '../support/rabbit-cluster.js';
import { LB_SERVER, startScaleOutWorld, type ScaleOutWorld, type WorkerId } from '../support/scale-out.js';
import { batchesInFlight, busiestNode, connectionsMovedOff, expectBroadcastComplete, progressBy } from '../support/scale-out-witnesses.js';
import { mintToken } from '../support/tokens.js';

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

describe('scale-out: a 20,000-device broadcast survives a RabbitMQ node, a worker and an API process killed in turn', () => {
  it('every device gets it, duplicates stay within the batches in flight at each kill, the job settles right, and only requests in flight on the killed API fail', async () => {
    const { users } = await seedCustomers(world.sql, DEVICES, { devices: 1, agency: 'SCALE', prefix: 'scale' });
    const customer = await mintToken({ role: 'customer', sub: users[0]! });
    const traffic = startTraffic(world.lb.url, customer, { path: '/v1/me/notifications', concurrency: TRAFFIC_CONCURRENCY });
    const jobId = await postJob(world.lb.url, world.admin, { target: { kind: 'agency', agency: 'SCALE' }, type: 'planned_works', title: 'Travaux', body: 'Coupure programmée dans votre quartier.' });
    const inFlightAtKills: number[] = [];

    // 1. The RabbitMQ node serving the most of the product's connections, so the kill cuts work in flight.
    await progressBy(world, 2_000, 'the broadcast under way', jobId);
    const victim = await busiestNode(cluster);
    expect(victim.connections, 'product connections on the RabbitMQ node killed').toBeGreaterThan(0);
    inFlightAtKills.push(await batchesInFlight(world, jobId));
    await cluster.kill(victim.index);
    await connectionsMovedOff(cluster, victim.index, victim.total);
    await progressBy(world, 2_000, 'after the RabbitMQ node kill', jobId);

    // 2. A worker holding batches of the job (its claims say so).
    const holder = await world.sql.query<{ node_id: WorkerId }>(
      `SELECT n.node_id FROM batch_claims c JOIN nodes n ON n.incarnation = c.holder WHERE c.job_id = $1 AND c.expires_at <> 'infinity' AND n.role = 'worker' LIMIT 1`,
      [jobId],
    );
    const worker = holder.rows[0]?.node_id;
    expect(worker, 'a worker holding batches of the job').toBeDefined();
    inFlightAtKills.push(await batchesInFlight(world, jobId));
    await world.kill(worker!);
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
    // A failed request in HAProxy's log: an error status, none (-1), or a session the server side ended abnormally
    // (termination S…: a response cut off after its status line was forwarded, as a SIGKILL mid-body does).
    const failedAtLb = world.lb.requests().filter((r) => r.status >= 500 || r.status < 0 || r.termination.startsWith('S'));
    console.log(`[scale-out kills] duplicates ${duplicates} (bound ${bound}); traffic ok ${report.ok}, failed ${report.failures.length} (${report.failures.map((f) => `${f.status} ${f.error ?? ''} sent ${Math.round(apiGoneAt - f.sentAt)} ms before api-1 was gone`).join('; ')}); HAProxy logged ${failedAtLb.length} failed: ${failedAtLb.map((r) => `${r.server} ${r.status} ${r.termination}`).join(', ')}`);
    // HTTP: failures only among the requests in flight on api-1 when it died — at most the traffic's concurrency,
    // each sent before it was gone; every failure HAProxy logged is on api-1. (Not an equality with the client's
    // count: a client connection HAProxy closes before a request line is complete is not logged — dontlognull —
    // so the client can see a reset HAProxy never records.)
    expect(report.ok).toBeGreaterThan(0);
    expect(report.failures.length).toBeLessThanOrEqual(TRAFFIC_CONCURRENCY);
    for (const f of report.failures) {
      expect(f.sentAt, `a failed request (${f.status} ${f.error ?? ''}) sent before api-1 was gone`).toBeLessThan(apiGoneAt);
      // In flight on api-1 when it died: it failed at the kill or after, never during the RabbitMQ or worker kill.
      expect(f.failedAt, `a failed request (${f.status} ${f.error ?? ''}) failed after api-1 was killed`).toBeGreaterThanOrEqual(apiKilledAt);
    }
    for (const r of failedAtLb) expect(r.server, `${r.method} ${r.path} answered ${r.status} (${r.termination})`).toBe(LB_SERVER['api-1']);
  }, 900_000);
});
