// A real RabbitMQ cluster for tests: three nodes (by default), each in its own network namespace on a bridge of the
// test's own, joined into one cluster with pause_minority partition handling and a low net_ticktime. A test kills a
// node (SIGKILL), cuts its link, boots it again or heals the link, and reads RabbitMQ's own view (its management API and
// CLIs).
// Needs root (ip netns); see docs/ARCHITECTURE.md "The RabbitMQ test cluster".
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type NodeLink,
  type Reservation,
  cleanupLeftoverClusters,
  createBridge,
  createNodeLink,
  requireRoot,
  reserveSubnet,
  setLink,
  teardown,
} from './rabbit-cluster/network.js';
import { AMQP_PORT, MANAGEMENT_PORT, RabbitNode } from './rabbit-cluster/rabbit-node.js';
import { type ClusterStatus, type QuorumMember, managementNodes, managementView, parseClusterStatus, parseQuorumStatus, reportsPartition } from './rabbit-cluster/cluster-views.js';

export { reportsPartition } from './rabbit-cluster/cluster-views.js';
export type { ClusterStatus, QuorumMember } from './rabbit-cluster/cluster-views.js';

/** A heal waits for the node in slices this long; after each one without the node back, the deployment's global-sync
 *  watchdog runs on it once, as its timer would (heals take 4–6 s here). */
const WATCHDOG_EVERY_MS = 15_000;

export interface RabbitClusterOptions {
  /** Nodes in the cluster (3). */
  readonly nodes?: number;
  /** The Erlang distribution's tick time: a cut link is noticed after 1–1.25 times this (5). */
  readonly netTicktimeSeconds?: number;
  /** The vhost the test user gets full permissions on (samaconso). */
  readonly vhost?: string;
  /** Bound on each wait: a boot, a rejoin, a heal (180 s: the machine has 2 cores shared by many). */
  readonly timeoutMs?: number;
  /** Where the cluster's data folder goes (the OS temp folder). */
  readonly dataRoot?: string;
}

export interface RabbitClusterNode {
  /** rabbit@10.254.X.1N */
  readonly name: string;
  /** 10.254.X.1N, in its own network namespace. */
  readonly address: string;
  readonly namespace: string;
  /** amqp://user:password@address:5672/vhost */
  readonly url: string;
  /** http://address:15672 (the management API; the test user is an administrator). */
  readonly managementUrl: string;
  /** The node's log file. */
  readonly logFile: string;
}

export interface RabbitCluster {
  readonly id: string;
  readonly nodes: readonly RabbitClusterNode[];
  /** Each node's AMQP URL, in node order. */
  readonly urls: readonly string[];
  /** The URLs comma-joined (AMQP_URL's list form). */
  readonly amqpUrlList: string;
  readonly managementUrls: readonly string[];
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
  /** SIGKILLs node i's Erlang VM and waits until it is dead; returns the pid killed. */
  kill(i: number): Promise<number>;
  /** Boots node i again on its data; resolves once it runs and every running node lists it running. */
  start(i: number): Promise<void>;
  /** Takes node i's link down: it reaches neither the other nodes nor the clients. */
  cut(i: number): Promise<void>;
  /**
   * Brings node i's link up; resolves once every node lists all live nodes running and no partition. The node is
   * left to come back by itself, with the deployment's global-sync watchdog (ops/deploy/rabbitmq/
   * global-sync-watchdog.sh) run on it every WATCHDOG_EVERY_MS until it is, as its timer runs on every production
   * node: 'unblocked' when the watchdog found RabbitMQ 3.10.8's Erlang global hang and undid it (with a warning),
   * 'rejoined' otherwise. The node is never restarted.
   */
  heal(i: number): Promise<'rejoined' | 'unblocked'>;
  /** Whether node i's AMQP port accepts connections, tried from its own namespace (works while it is cut). */
  acceptsAmqp(i: number): Promise<boolean>;
  /** rabbitmqctl -n <node i> args (run in its namespace: works while it is cut). */
  ctl(i: number, args: readonly string[]): Promise<string>;
  /** rabbitmqctl cluster_status, as node i sees it. */
  clusterStatus(i: number): Promise<ClusterStatus>;
  /** rabbitmq-queues quorum_status of a queue in the cluster's vhost, asked of node `via` (the first node up). */
  quorumStatus(queue: string, via?: number): Promise<QuorumMember[]>;
  /**
   * Waits until a queue has a member on every node, each leader or follower, with the leader's log index and one
   * commit index (at least `atLeast`); returns the members. A timeout names what each member said last and carries
   * the log tail of each node whose member was behind.
   */
  replicasCaughtUp(queue: string, atLeast?: number): Promise<readonly QuorumMember[]>;
  /** Kills every node and process in the namespaces, removes namespaces, links, bridge and data. Safe twice. */
  stop(): Promise<void>;
}

/** Starts the cluster; a start that fails removes whatever it had built before throwing. */
export async function startRabbitCluster(options: RabbitClusterOptions = {}): Promise<RabbitCluster> {
  requireRoot();
  const size = options.nodes ?? 3;
  const vhost = options.vhost ?? 'samaconso';
  const timeoutMs = options.timeoutMs ?? 180_000;
  await cleanupLeftoverClusters();
  const reservation = await reserveSubnet(options.dataRoot ?? tmpdir());
  try {
    return await build(reservation, size, vhost, timeoutMs, options.netTicktimeSeconds ?? 5);
  } catch (e) {
    await teardown(reservation).catch(() => undefined);
    throw e;
  }
}

async function build(r: Reservation, size: number, vhost: string, timeoutMs: number, netTicktimeSeconds: number): Promise<RabbitCluster> {
  const clusterDir = r.dir;
  mkdirSync(clusterDir, { recursive: true });
  // One cookie for all nodes and their CLI (Erlang reads $HOME/.erlang.cookie and insists on mode 400).
  writeFileSync(join(clusterDir, '.erlang.cookie'), randomBytes(20).toString('hex').toUpperCase(), { mode: 0o400 });
  writeFileSync(join(clusterDir, 'enabled_plugins'), '[rabbitmq_management].\n');
  await createBridge(r);
  const links: NodeLink[] = [];
  for (let i = 0; i < size; i++) links.push(await createNodeLink(r, i));
  const nodes = links.map((link, i) => new RabbitNode(i, link, { clusterDir, netTicktimeSeconds }));

  await Promise.all(nodes.map((n) => n.boot(timeoutMs)));
  const user = `test-${randomBytes(3).toString('hex')}`;
  // Hex: a base64url password may start with '-', which rabbitmqctl takes for an option.
  const password = randomBytes(18).toString('hex');
  const first = nodes[0]!;
  // guest may only connect from loopback, and the clients come over the bridge: a user of the test's own.
  await first.ctl(['-q', 'add_vhost', vhost]);
  await first.ctl(['-q', 'add_user', user, password]);
  await first.ctl(['-q', 'set_user_tags', user, 'administrator']);
  await first.ctl(['-q', 'set_permissions', '-p', vhost, user, '.*', '.*', '.*']);
  // One at a time: two joins at once race on the first node's schema.
  for (const node of nodes.slice(1)) {
    await node.ctl(['-q', 'stop_app']);
    await node.ctl(['-q', 'join_cluster', first.name]);
    await node.ctl(['-q', 'start_app']);
  }

  const down = new Set<number>();
  const at = (i: number): RabbitNode => {
    const node = nodes[i];
    if (!node) throw new Error(`no node ${i} (the cluster has ${nodes.length})`);
    return node;
  };
  const clusterStatus = async (i: number): Promise<ClusterStatus> => parseClusterStatus(await at(i).ctl(['-q', 'cluster_status', '--formatter', 'json']));
  // Settled: every live node sees exactly the live nodes running and no partition. The management API is polled
  // (a CLI call boots an Erlang VM: seconds on a loaded machine), cluster_status when it does not answer, and
  // cluster_status confirms on every node at the end. What each node said last goes into a timeout's message.
  const settled = async (): Promise<void> => {
    const live = nodes.filter((n) => !down.has(n.index));
    const want = live.map((n) => n.name).sort().join();
    const lastSeen = new Map<string, string>();
    const agrees = (n: RabbitNode, via: string, running: readonly string[], partitioned: boolean): boolean => {
      lastSeen.set(n.name, `${via}: running ${running.join(' ')}${partitioned ? ', partitioned' : ''}`);
      return running.slice().sort().join() === want && !partitioned;
    };
    const cli = async (n: RabbitNode): Promise<boolean> => {
      const s = await clusterStatus(n.index);
      return agrees(n, 'cluster_status', s.runningNodes, reportsPartition(s));
    };
    const cheap = async (n: RabbitNode): Promise<boolean> => {
      try {
        const v = managementView(await managementNodes(`http://${n.link.address}:${MANAGEMENT_PORT}`, user, password));
        return agrees(n, 'management', v.running, v.partitioned);
      } catch (e) {
        const err = e as Error & { cause?: Error };
        lastSeen.set(n.name, `management API failed (${err.cause?.message ?? err.message})`);
        return cli(n);
      }
    };
    const detail = (): string => [...lastSeen].map(([node, seen]) => `${node} ${seen}`).join('; ');
    await until(() => `cluster ${r.id} to list ${want} running with no partition (last seen: ${detail()})`, timeoutMs, async () => {
      if (!(await Promise.all(live.map(cheap))).every(Boolean)) return false;
      return (await Promise.all(live.map(cli))).every(Boolean);
    });
  };
  await settled();
  const quorumStatus = async (queue: string, via?: number): Promise<QuorumMember[]> => {
    const node = via === undefined ? nodes.find((n) => !down.has(n.index)) : at(via);
    if (!node) throw new Error('every node is down');
    return parseQuorumStatus(await node.queues(['-q', 'quorum_status', queue, '--vhost', vhost, '--formatter', 'json']));
  };

  const urls = nodes.map((n) => `amqp://${user}:${encodeURIComponent(password)}@${n.link.address}:${AMQP_PORT}/${encodeURIComponent(vhost)}`);
  const managementUrls = nodes.map((n) => `http://${n.link.address}:${MANAGEMENT_PORT}`);
  let stopped = false;
  return {
    id: r.id,
    nodes: nodes.map((n, i) => ({
      name: n.name,
      address: n.link.address,
      namespace: n.link.namespace,
      url: urls[i]!,
      managementUrl: managementUrls[i]!,
      logFile: n.logFile,
    })),
    urls,
    amqpUrlList: urls.join(','),
    managementUrls,
    user,
    password,
    vhost,
    kill: async (i) => {
      const pid = await at(i).kill();
      down.add(i);
      return pid;
    },
    start: async (i) => {
      await at(i).boot(timeoutMs);
      down.delete(i);
      await settled();
    },
    cut: async (i) => {
      await setLink(at(i).link, false);
      down.add(i);
    },
    heal: async (i) => {
      await setLink(at(i).link, true);
      down.delete(i);
      const deadline = Date.now() + timeoutMs;
      const unblocked: string[] = [];
      for (;;) {
        try {
          await at(i).awaitStartup(Math.min(WATCHDOG_EVERY_MS, deadline - Date.now()));
          await settled();
          return unblocked.length > 0 ? 'unblocked' : 'rejoined';
        } catch (e) {
          if (Date.now() >= deadline - 1_000) {
            const hung = at(i).logTail().includes('Faking nodedown/nodeup') ? ' (the Erlang global hang: ops/RUNBOOK.md)' : '';
            const watchdog = unblocked.length > 0 ? `; the watchdog acted: ${unblocked.join('; ')}` : '; the watchdog found nothing stuck';
            throw new Error(`${(e as Error).message}${hung}${watchdog}\n${at(i).name}'s log ends:\n${at(i).logTail()}`);
          }
          // RabbitMQ 3.10.8 on OTP 25: global's sync can hang as the paused node restarts its broker (its own
          // workaround sends messages OTP 25's global ignores); the deployment's watchdog undoes it.
          const acted = await at(i).globalSyncWatchdog().catch((error: Error) => {
            console.warn(`global-sync-watchdog.sh on ${at(i).name} failed: ${error.message}`);
            return '';
          });
          if (acted) {
            unblocked.push(acted);
            console.warn(`${at(i).name} had not come back ${Math.round((Date.now() - deadline + timeoutMs) / 1000)} s after the heal; global-sync-watchdog.sh: ${acted}`);
          }
        }
      }
    },
    acceptsAmqp: (i) => at(i).acceptsAmqp(),
    ctl: (i, args) => at(i).ctl(args),
    clusterStatus,
    quorumStatus,
    replicasCaughtUp: async (queue, atLeast = 0) => {
      let last: readonly QuorumMember[] = [];
      const behind = (members: readonly QuorumMember[]): RabbitNode[] => {
        const leader = members.find((m) => m.raftState === 'leader');
        return nodes.filter((n) => {
          const m = members.find((x) => x.node === n.name);
          if (!m || !leader) return true;
          return !['leader', 'follower'].includes(m.raftState) || m.logIndex !== leader.logIndex || m.commitIndex !== leader.commitIndex || (m.commitIndex ?? -1) < atLeast;
        });
      };
      try {
        await until(() => `every replica of ${queue} caught up with its leader at commit index ≥ ${atLeast}`, timeoutMs, async () => {
          last = await quorumStatus(queue);
          return behind(last).length === 0;
        });
      } catch (e) {
        const tails = behind(last).map((n) => `${n.name}'s log ends:\n${n.logTail(20)}`);
        throw new Error([`${(e as Error).message}; members last seen: ${JSON.stringify(last)}`, ...tails].join('\n'));
      }
      return last;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await teardown(r);
    },
  };
}

async function until(what: () => string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
