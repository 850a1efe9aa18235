// RabbitMQ's own view of the test cluster, parsed from its CLI's JSON (rabbitmqctl cluster_status, rabbitmq-queues
// quorum_status) and its management API (/api/nodes, the cheap view polled while waiting).

export interface ClusterStatus {
  /** Nodes the asked node knows as members (disk nodes: every node here). */
  readonly diskNodes: readonly string[];
  readonly runningNodes: readonly string[];
  /** Per node, the nodes it saw on the other side of a partition; empty when none is reported. */
  readonly partitions: Readonly<Record<string, readonly string[]>>;
  readonly alarms: readonly unknown[];
}

export interface QuorumMember {
  /** rabbit@10.254.X.1N */
  readonly node: string;
  /** leader, follower, candidate …; "nodedown" (refused) or "timeout" (no answer: a cut link) when unreachable. */
  readonly raftState: string;
  /** Undefined when the member did not answer (node down). */
  readonly logIndex: number | undefined;
  readonly commitIndex: number | undefined;
  readonly term: number | undefined;
}

export function parseClusterStatus(json: string): ClusterStatus {
  const v = JSON.parse(json) as { disk_nodes?: string[]; running_nodes?: string[]; partitions?: unknown; alarms?: unknown[] };
  // An empty partition map prints as {} and a list of pairs has been seen in older CLIs: accept both shapes.
  const p = v.partitions;
  const partitions: Record<string, string[]> = Array.isArray(p) ? Object.fromEntries(p as [string, string[]][]) : ((p ?? {}) as Record<string, string[]>);
  return { diskNodes: v.disk_nodes ?? [], runningNodes: v.running_nodes ?? [], partitions, alarms: v.alarms ?? [] };
}

/** rabbitmq-queues quorum_status --formatter json: one row per member, "" (or "undefined") where it did not answer. */
export function parseQuorumStatus(json: string): QuorumMember[] {
  const rows = JSON.parse(json) as Record<string, unknown>[];
  const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);
  return rows.map((row) => {
    const state = row['Raft State'];
    return {
      node: String(row['Node Name']),
      // A member on a node that is down reads ["nodedown", "rabbit@…"].
      raftState: Array.isArray(state) ? String(state[0]) : String(state),
      logIndex: num(row['Log Index']),
      commitIndex: num(row['Commit Index']),
      term: num(row.Term),
    };
  });
}

/** One node's answer to GET /api/nodes: each member's running flag and the partitions it reports (absent for a member that is not running). */
export async function managementNodes(url: string, user: string, password: string): Promise<ManagementNode[]> {
  const res = await fetch(`${url}/api/nodes?columns=name,running,partitions`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`GET ${url}/api/nodes answered ${res.status}`);
  return (await res.json()) as ManagementNode[];
}

export type ManagementNode = { name: string; running: boolean; partitions?: string[] };

/** The management API's view as the settled wait reads it: the members it lists running, and whether any reports a partition. */
export function managementView(members: readonly ManagementNode[]): { running: string[]; partitioned: boolean } {
  return { running: members.filter((m) => m.running).map((m) => m.name), partitioned: members.some((m) => (m.partitions?.length ?? 0) > 0) };
}

/** True when the asked node reports any partition (an empty list per node counts as none). */
export function reportsPartition(status: ClusterStatus): boolean {
  return Object.values(status.partitions).some((seen) => seen.length > 0);
}
