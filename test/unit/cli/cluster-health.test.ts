// check-health's verdict: which states fail the check, where queue consumers are counted, and the table.
import { describe, expect, it } from 'vitest';
import { assessCluster, renderTable, type ClusterReport, type QueueView } from '../../../src/cli/cluster-health.js';
import type { ClusterNode, NodeTree } from '../../../src/contracts/control-plane-messages.js';
import type { ActorState, TreeNode } from '../../../src/contracts/supervision.js';

const QUEUES = ['urgent', 'high_priority', 'normal', 'low_priority'];
const stats = (state: ActorState, detail?: string) => ({ state, mailboxDepth: 0, handled: 0, crashes: 0, restarts: 0, ...(detail ? { detail } : {}) });
const actor = (name: string, state: ActorState, readiness: 'required' | 'optional' = 'required', detail?: string): TreeNode => ({
  path: `root/${name}`,
  name,
  kind: 'actor',
  readiness,
  stats: stats(state, detail),
});
const tree = (node: string, children: TreeNode[], ageMs = 1200): NodeTree => ({
  node,
  role: 'worker',
  at: '2026-12-04T15:00:00.000Z',
  ageMs,
  tree: { path: 'root', name: 'root', kind: 'supervisor', stats: stats('running'), children },
});
const alive = (node: string): ClusterNode => ({
  node,
  role: 'worker',
  host: 'w1.local',
  pid: 42,
  incarnation: 'inc-1',
  startedAt: '2026-12-04T14:00:00.000Z',
  heartbeatAt: '2026-12-04T15:00:00.000Z',
  snapshotAgeMs: 1200,
});
const consumers = (state: ActorState) => QUEUES.map((q) => actor(`consumer.${q}`, state));
const counted = (n: number, paused: Partial<Record<string, boolean>> = {}): QueueView[] => QUEUES.map((name) => ({ name, consumers: n, paused: paused[name] ?? false }));
const ready = { ready: true, role: 'api', blocking: [], latencyMs: 8 };
const report = (trees: NodeTree[], queues: QueueView[] | undefined, extra: Partial<ClusterReport> = {}): ClusterReport => ({
  nodes: trees.map((t) => alive(t.node)),
  trees,
  queues,
  ready,
  ...extra,
});

describe('assessCluster', () => {
  it('passes when every required part runs and every queue is consumed, with a row per part of every node', () => {
    const h = assessCluster(report([tree('api-1', [actor('postgres', 'running'), actor('sic', 'backing-off', 'optional', 'login failed')]), tree('w-1', consumers('running'))], counted(1)));
    expect(h.problems).toEqual([]);
    expect(h.rows.find((r) => r.part === 'sic')).toEqual({ node: 'api-1', part: 'sic', required: false, state: 'backing-off', latencyMs: 1200, detail: 'login failed' });
    expect(h.rows.filter((r) => r.node === 'w-1').map((r) => r.part)).toEqual(['(node)', ...QUEUES.map((q) => `consumer.${q}`)]);
    expect(h.rows.find((r) => r.part === '/health/ready')).toMatchObject({ state: 'ready', latencyMs: 8 });
  });

  it('fails on a required part that is not running, naming node, part, state and detail', () => {
    const h = assessCluster(report([tree('api-1', [actor('postgres', 'backing-off', 'required', 'connect ECONNREFUSED')])], counted(1)));
    expect(h.problems).toEqual(['api-1: required part postgres is backing-off (connect ECONNREFUSED)']);
  });

  it('does not fail on an optional part that is down', () => {
    expect(assessCluster(report([tree('api-1', [actor('sms', 'failed', 'optional')])], counted(1))).problems).toEqual([]);
  });

  it('fails on a priority queue without consumer that is not paused, and not on a paused one', () => {
    const queues = counted(1).map((q) => (q.name === 'urgent' ? { ...q, consumers: 0 } : q.name === 'low_priority' ? { ...q, consumers: 0, paused: true } : q));
    const h = assessCluster(report([tree('w-1', [])], queues));
    expect(h.problems).toEqual(['queue urgent has no consumer and is not paused']);
    expect(h.rows.find((r) => r.part === 'queue urgent')).toMatchObject({ state: 'no consumer', node: '(broker)' });
    expect(h.rows.find((r) => r.part === 'queue low_priority')).toMatchObject({ state: 'paused', node: '(broker)' });
  });

  it("without the broker's counts, reads consumers and pauses from the nodes' trees", () => {
    const worker = tree('w-1', [...consumers('running').slice(0, 3), actor('consumer.low_priority', 'paused')]);
    expect(assessCluster(report([worker], undefined)).problems).toEqual([]);
    const none = assessCluster(report([tree('api-1', [actor('postgres', 'running')])], undefined));
    expect(none.problems).toHaveLength(4);
    expect(none.rows.find((r) => r.part === 'queue normal')).toMatchObject({ node: '(nodes)', state: 'no consumer' });
  });

  it('fails when no node is alive, when an alive node sent no snapshot, and when the API is not ready', () => {
    expect(assessCluster(report([], counted(1))).problems).toContain('no node is alive (no heartbeat in the node registry)');
    const silent = assessCluster({ nodes: [alive('w-2')], trees: [], queues: counted(1), ready });
    expect(silent.problems).toEqual(['w-2: alive in the node registry but no snapshot of its tree received']);
    expect(silent.rows.find((r) => r.node === 'w-2')).toMatchObject({ part: '(node)', state: 'no snapshot', latencyMs: null });
    const unready = assessCluster(report([tree('api-1', [])], counted(1), { ready: { ready: false, role: '', blocking: ['postgres'], latencyMs: 3 } }));
    expect(unready.problems).toEqual(['the API instance asked is not ready (postgres)']);
  });

  it('counts a paused required consumer as up (an operator paused it)', () => {
    expect(assessCluster(report([tree('w-1', [actor('consumer.low_priority', 'paused')])], counted(1, { low_priority: true }))).problems).toEqual([]);
  });
});

describe('renderTable', () => {
  it('pads columns to the widest cell and keeps one line per row', () => {
    const text = renderTable([
      { node: 'api-1', part: 'postgres', required: true, state: 'running', latencyMs: 12.4, detail: '' },
      { node: 'worker-long-name', part: 'fcm-pool', required: true, state: 'backing-off', latencyMs: null, detail: 'threads\nrestarting' },
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^NODE {14}PART {6}REQUIRED {2}STATE {8}LATENCY \(ms\) {2}DETAIL$/);
    expect(lines[1]).toMatch(/ running +12$/);
    expect(lines[2]).toContain('threads restarting');
    expect(lines[2]).toMatch(/backing-off {2}- /);
    expect(lines[1]!.indexOf('postgres')).toBe(lines[2]!.indexOf('fcm-pool'));
  });
});
