// The verdict of `npm run check-health` over what the admin API reports: one row per part of every node, the API's
// readiness and the four priority queues, and the problems that fail the check (a required part not up, a node alive
// without a snapshot, an unready API, a priority queue nobody consumes and nobody paused).
import { PRIORITY_QUEUES } from '../domain/priority.js';
import type { ClusterNode, NodeTree } from '../contracts/control-plane-messages.js';
import type { TreeNode } from '../contracts/supervision.js';

/** One queue as the broker counts it (GET /admin/queues); `paused` null when the pause table could not be read. */
export interface QueueView {
  readonly name: string;
  readonly consumers: number;
  readonly paused: boolean | null;
}

/** What /health/ready answered the check: ready or not, the parts that block it, and the round trip. */
export interface ReadyView {
  readonly ready: boolean;
  readonly role: string;
  readonly blocking: readonly string[];
  readonly latencyMs: number;
}

export interface ClusterReport {
  /** Alive nodes (GET /admin/nodes). */
  readonly nodes: readonly ClusterNode[];
  /** Their trees from their last snapshots (GET /admin/supervisors). */
  readonly trees: readonly NodeTree[];
  /** The broker's counts; undefined when the management API could not be asked (then read from the trees). */
  readonly queues: readonly QueueView[] | undefined;
  readonly ready: ReadyView;
}

export interface HealthRow {
  readonly node: string;
  readonly part: string;
  readonly required: boolean;
  readonly state: string;
  /** A node's part: how old its state is (the snapshot's age). The API's rows: the round trip. Null: not measured. */
  readonly latencyMs: number | null;
  readonly detail: string;
}

export interface ClusterHealth {
  readonly rows: readonly HealthRow[];
  readonly problems: readonly string[];
}

/** States in which a required part counts as up: `paused` is an operator's decision, not an outage. */
const UP_STATES: ReadonlySet<string> = new Set(['running', 'paused']);

const consumerActor = (queue: string): string => `consumer.${queue}`;

/** The parts of a tree: the actors and supervisors listed in readiness. */
function parts(tree: TreeNode): TreeNode[] {
  const found: TreeNode[] = [];
  const walk = (n: TreeNode): void => {
    if (n.readiness !== undefined) found.push(n);
    n.children?.forEach(walk);
  };
  walk(tree);
  return found;
}

function nodeRows(report: ClusterReport, rows: HealthRow[], problems: string[]): void {
  const trees = new Map(report.trees.map((t) => [t.node, t]));
  const listed = new Set(report.nodes.map((n) => n.node));
  for (const n of report.nodes) {
    const tree = trees.get(n.node);
    const where = `${n.role} on ${n.host} pid ${n.pid}, started ${n.startedAt}, heartbeat ${n.heartbeatAt}`;
    rows.push({ node: n.node, part: '(node)', required: true, state: tree ? 'alive' : 'no snapshot', latencyMs: tree ? tree.ageMs : null, detail: where });
    if (!tree) problems.push(`${n.node}: alive in the node registry but no snapshot of its tree received`);
  }
  // A tree whose node left the registry meanwhile is shown too (its rows say how old they are).
  for (const t of [...report.nodes.flatMap((n) => trees.get(n.node) ?? []), ...report.trees.filter((t) => !listed.has(t.node))]) {
    for (const p of parts(t.tree)) {
      const required = p.readiness === 'required';
      rows.push({ node: t.node, part: p.name, required, state: p.stats.state, latencyMs: t.ageMs, detail: p.stats.detail ?? p.stats.lastError?.message ?? '' });
      if (required && !UP_STATES.has(p.stats.state)) problems.push(`${t.node}: required part ${p.name} is ${p.stats.state}${p.stats.detail ? ` (${p.stats.detail})` : ''}`);
    }
  }
}

/**
 * Rows and problems. Queue consumers come from the broker's counts when given (the only view that sees every
 * consumer); without them (management API away) from the nodes' trees, and the rows say so.
 */
export function assessCluster(report: ClusterReport): ClusterHealth {
  const rows: HealthRow[] = [];
  const problems: string[] = [];
  if (report.nodes.length === 0) problems.push('no node is alive (no heartbeat in the node registry)');
  const { ready } = report;
  rows.push({ node: '(api)', part: '/health/ready', required: true, state: ready.ready ? 'ready' : 'not ready', latencyMs: ready.latencyMs, detail: ready.ready ? ready.role : `blocked by ${ready.blocking.join(', ') || 'an unnamed part'}` });
  if (!ready.ready) problems.push(`the API instance asked is not ready (${ready.blocking.join(', ') || 'no part named'})`);
  nodeRows(report, rows, problems);
  const treeParts = report.trees.flatMap((t) => parts(t.tree));
  for (const queue of PRIORITY_QUEUES) {
    const counted = report.queues?.find((q) => q.name === queue);
    const fromTrees = treeParts.filter((p) => p.name === consumerActor(queue));
    const consumers = counted ? counted.consumers : fromTrees.filter((p) => p.stats.state === 'running').length;
    const paused = counted?.paused ?? fromTrees.some((p) => p.stats.state === 'paused');
    rows.push({
      node: counted ? '(broker)' : '(nodes)',
      part: `queue ${queue}`,
      required: true,
      state: paused ? 'paused' : consumers > 0 ? 'consumed' : 'no consumer',
      latencyMs: null,
      detail: `${consumers} consumer(s)${counted ? '' : ", counted from the nodes' trees"}`,
    });
    if (consumers === 0 && !paused) problems.push(`queue ${queue} has no consumer and is not paused`);
  }
  return { rows, problems };
}

/** A plain-text table, columns padded to their widest cell, one line per row. */
export function renderTable(rows: readonly HealthRow[]): string {
  const header = ['NODE', 'PART', 'REQUIRED', 'STATE', 'LATENCY (ms)', 'DETAIL'];
  const cells = rows.map((r) => [r.node, r.part, r.required ? 'yes' : 'no', r.state, r.latencyMs === null ? '-' : String(Math.round(r.latencyMs)), r.detail.replace(/\s+/g, ' ').slice(0, 160)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}
