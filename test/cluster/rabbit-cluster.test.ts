// The three-node RabbitMQ test cluster itself (test/support/rabbit-cluster.ts), witnessed by RabbitMQ's own CLI and
// management API: it forms with the deployment's pause_minority and a low net_ticktime; a quorum queue stays
// available when a node is SIGKILLed or cut off by its link, the cut node pauses, and once the node is back its
// replica catches up with what was published meanwhile. Needs root (ip netns). Durations go to the test's output.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RabbitCluster, reportsPartition, startRabbitCluster } from '../support/rabbit-cluster.js';
import { waitFor } from '../support/wait.js';

const NET_TICKTIME = 5;
const WAIT = 240_000;
const QUORUM_ARGS = { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3 };

let cluster: RabbitCluster;
const since = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

beforeAll(async () => {
  const t0 = Date.now();
  cluster = await startRabbitCluster({ netTicktimeSeconds: NET_TICKTIME });
  console.info(`rabbit cluster ${cluster.id} started in ${since(t0)}: ${cluster.nodes.map((n) => n.name).join(', ')}`);
});

afterAll(async () => {
  const t0 = Date.now();
  await cluster?.stop();
  console.info(`rabbit cluster stopped in ${since(t0)}`);
});

/**
 * Publishes `bodies` to the queue through node `via`, resolving once the broker confirmed every one. A message nacked
 * (a quorum queue whose leader was just lost may refuse it while it elects another) is published again, as the
 * product's outbox relay does; returns how many nacks that took.
 */
async function publishConfirmed(via: number, queue: string, bodies: readonly string[]): Promise<number> {
  const conn = await amqp.connect(cluster.urls[via]!);
  let nacks = 0;
  try {
    const ch = await conn.createConfirmChannel();
    let pending = [...bodies];
    const deadline = Date.now() + WAIT;
    while (pending.length > 0) {
      const outcomes = await Promise.all(
        pending.map((body) => new Promise<string | undefined>((resolve) => ch.sendToQueue(queue, Buffer.from(body), { persistent: true, messageId: body }, (err) => resolve(err ? body : undefined)))),
      );
      pending = outcomes.filter((b): b is string => b !== undefined);
      nacks += pending.length;
      if (pending.length > 0 && Date.now() > deadline) throw new Error(`${pending.length} messages still nacked by ${queue} through node ${via + 1}`);
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await conn.close();
  }
  return nacks;
}

/** Consumes `count` messages from the queue through node `via` (acked), returning their bodies. */
async function consume(via: number, queue: string, count: number): Promise<string[]> {
  const conn = await amqp.connect(cluster.urls[via]!);
  try {
    const ch = await conn.createChannel();
    await ch.prefetch(100);
    const got: string[] = [];
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      got.push(msg.content.toString());
      ch.ack(msg);
    });
    // Distinct bodies: a message published again after a nack may have been enqueued the first time too.
    await waitFor(`${count} messages from ${queue} through node ${via + 1}`, () => new Set(got).size >= count, 60_000);
    return got;
  } finally {
    await conn.close();
  }
}

async function declareQuorumQueue(via: number, queue: string): Promise<void> {
  const conn = await amqp.connect(cluster.urls[via]!);
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: true, arguments: QUORUM_ARGS });
  } finally {
    await conn.close();
  }
}

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

async function leaderOf(queue: string): Promise<number> {
  const members = await waitFor(`a leader for ${queue}`, async () => {
    const m = await cluster.quorumStatus(queue);
    return m.some((x) => x.raftState === 'leader') && m;
  }, WAIT);
  return cluster.nodes.findIndex((n) => n.name === members.find((x) => x.raftState === 'leader')!.node);
}

describe('a three-node RabbitMQ cluster in network namespaces', () => {
  it('forms: three running nodes, pause_minority and the low net_ticktime in effect, a quorum queue with three members', async () => {
    for (let i = 0; i < 3; i++) {
      const status = await cluster.clusterStatus(i);
      expect(status.runningNodes.slice().sort()).toEqual(cluster.nodes.map((n) => n.name).sort());
      expect(reportsPartition(status)).toBe(false);
      expect((await cluster.ctl(i, ['-q', 'eval', 'application:get_env(rabbit, cluster_partition_handling).'])).trim()).toBe('{ok,pause_minority}');
      expect((await cluster.ctl(i, ['-q', 'eval', 'net_kernel:get_net_ticktime().'])).trim()).toBe(String(NET_TICKTIME));
    }
    await declareQuorumQueue(0, 'forms');
    const members = await cluster.quorumStatus('forms');
    expect(members.map((m) => m.node).sort()).toEqual(cluster.nodes.map((n) => n.name).sort());
    // The management API agrees (a different code path: the queue's record, not its Raft servers).
    const queue = await waitFor('the management API to list the queue', async () => {
      const res = await fetch(`${cluster.managementUrls[2]}/api/queues/${encodeURIComponent(cluster.vhost)}/forms`, {
        headers: { authorization: `Basic ${Buffer.from(`${cluster.user}:${cluster.password}`).toString('base64')}` },
      });
      return res.ok && ((await res.json()) as { type: string; members?: string[]; online?: string[] });
    }, WAIT);
    expect(queue.type).toBe('quorum');
    expect(queue.members?.slice().sort()).toEqual(cluster.nodes.map((n) => n.name).sort());
  });

  it('a node SIGKILLed: the other two keep the quorum queue serving; restarted, it rejoins and its replica catches up', async () => {
    const queue = 'killed';
    await declareQuorumQueue(0, queue);
    await publishConfirmed(0, queue, range('before', 100));
    // The leader dies: the survivors must elect a new one, the harder case.
    const victim = await leaderOf(queue);
    const survivor = (victim + 1) % 3;
    let t0 = Date.now();
    const pid = await cluster.kill(victim);
    console.info(`node ${victim + 1} (leader, pid ${pid}) killed in ${since(t0)}`);
    // The survivors saw it go: off their running list, its replica unreachable.
    await waitFor(`node ${survivor + 1} to see node ${victim + 1} down`, async () => !(await cluster.clusterStatus(survivor)).runningNodes.includes(cluster.nodes[victim]!.name), WAIT);
    expect((await cluster.quorumStatus(queue, survivor)).find((m) => m.node === cluster.nodes[victim]!.name)!.raftState).toBe('nodedown');

    t0 = Date.now();
    const nacks = await publishConfirmed(survivor, queue, range('during', 100));
    const bodies = await consume(survivor, queue, 200);
    console.info(`200 confirmed-published (${nacks} nacks published again) and consumed through node ${survivor + 1} with node ${victim + 1} dead in ${since(t0)}`);
    expect(new Set(bodies)).toEqual(new Set([...range('before', 100), ...range('during', 100)]));
    const committed = Math.max(...(await cluster.quorumStatus(queue, survivor)).map((m) => m.commitIndex ?? 0));

    t0 = Date.now();
    await cluster.start(victim);
    console.info(`node ${victim + 1} restarted and rejoined in ${since(t0)}`);
    const members = await cluster.replicasCaughtUp(queue, committed);
    console.info(`replicas caught up ${since(t0)} after the restart: ${JSON.stringify(members)}`);
    expect(members.find((m) => m.node === cluster.nodes[victim]!.name)!.commitIndex).toBeGreaterThanOrEqual(committed);
  });

  it('a node cut off by its link pauses (pause_minority) while the majority serves; healed, it rejoins by itself (with the deployment global-sync watchdog, never a restart) and its replica catches up', async () => {
    const queue = 'partitioned';
    await declareQuorumQueue(0, queue);
    await publishConfirmed(0, queue, range('before', 50));
    // A follower is cut: with the leader cut off, 3.10 on this machine was seen to nack publishes through the
    // majority for minutes in 2 runs of 8, a finding for the product's scenarios, not this helper's test.
    const leader = await leaderOf(queue);
    const cut = (leader + 1) % 3;
    const majority = leader;
    expect(await cluster.acceptsAmqp(cut)).toBe(true);

    let t0 = Date.now();
    await cluster.cut(cut);
    // Paused: the rabbit app stopped on the cut node, and its AMQP listener with it (tried from its own namespace).
    await waitFor(`node ${cut + 1} to pause`, async () => (await cluster.ctl(cut, ['-q', 'eval', 'rabbit:is_running().'])).trim() === 'false', WAIT);
    console.info(`node ${cut + 1} (a follower) paused ${since(t0)} after its link went down (net_ticktime ${NET_TICKTIME} s)`);
    await waitFor(`node ${cut + 1}'s AMQP port to refuse`, async () => !(await cluster.acceptsAmqp(cut)), WAIT);
    // The majority's own tick notices the cut on its side too: it runs on, the two of them.
    const rest = cluster.nodes.filter((_, i) => i !== cut).map((n) => n.name).sort().join();
    await waitFor(`node ${majority + 1} to list only the majority running`, async () => (await cluster.clusterStatus(majority)).runningNodes.slice().sort().join() === rest, WAIT);
    console.info(`the majority saw node ${cut + 1} go ${since(t0)} after the cut`);

    t0 = Date.now();
    const nacks = await publishConfirmed(majority, queue, range('during', 100));
    console.info(`100 confirmed-published through the majority during the cut in ${since(t0)} (${nacks} nacks published again)`);
    const committed = Math.max(...(await cluster.quorumStatus(queue, majority)).map((m) => m.commitIndex ?? 0));
    // Its replica is out of reach: a connection attempt behind a link that is down fails (nodedown) or hangs (timeout).
    expect(['nodedown', 'timeout']).toContain((await cluster.quorumStatus(queue, majority)).find((m) => m.node === cluster.nodes[cut]!.name)!.raftState);

    t0 = Date.now();
    // Never restarted: it comes back by itself, with the deployment's global-sync watchdog undoing RabbitMQ 3.10.8's
    // Erlang global hang when it strikes (ops/RUNBOOK.md).
    const how = await cluster.heal(cut);
    console.info(`node ${cut + 1} ${how} ${since(t0)} after its link came back`);
    for (let i = 0; i < 3; i++) {
      const status = await cluster.clusterStatus(i);
      expect(status.runningNodes).toHaveLength(3);
      expect(reportsPartition(status)).toBe(false);
    }
    const members = await cluster.replicasCaughtUp(queue, committed);
    console.info(`replicas caught up ${since(t0)} after the heal: ${JSON.stringify(members)}`);
    // The rejoined node serves again: everything published before and during the cut comes out through it.
    expect(await cluster.acceptsAmqp(cut)).toBe(true);
    const bodies = await consume(cut, queue, 150);
    expect(new Set(bodies)).toEqual(new Set([...range('before', 50), ...range('during', 100)]));
  });
});
