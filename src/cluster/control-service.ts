// The cluster as on-call sees it and acts on it: alive nodes (from the node registry) with their last snapshots, and
// restarts sent through the control plane to the node(s) running a supervisor, each recorded in the operations audit.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { Caller } from '../contracts/caller.js';
import type { ClusterNode, CommandResult, ControlCommand, NodeTree, RestartOutcome } from '../contracts/control-plane-messages.js';
import type { TreeNode } from '../contracts/supervision.js';
import { SupervisorNotFoundError } from '../errors/actor-errors.js';
import { errorCode, ValidationError } from '../errors/app-error.js';
import { NodeNotFoundError, NodeTimeoutError } from '../errors/control-errors.js';
import { ALL_NODES } from './control-wire.js';
import type { CommandTarget, ControlPlane } from './control-plane.js';
import { listNodes, type NodeRow } from './node-registry.js';
import { recordOperation } from './operations-audit.js';

export interface ControlServiceDeps {
  readonly plane: ControlPlane;
  readonly db: () => Promise<PgHandle>;
  /** The root supervisor's name: never restarted this way (the process manager restarts processes). */
  readonly rootName: string;
  readonly commandTimeoutMs: number;
  readonly now: () => number;
  /** This node: alive by answering, so always among "every node", even before its first heartbeat is in. */
  readonly self: CommandTarget;
  /** How long the audit row may wait for PostgreSQL (a restart of `resources` takes the pool away a moment). @defaultValue 15_000 */
  readonly auditWaitMs?: number;
}

/** Errors that say "PostgreSQL is not lent right now": the audit waits them out. */
const TRANSIENT = new Set(['ACTOR_RESTARTING', 'ACTOR_NOT_FOUND', 'ACTOR_STOPPED', 'DATABASE_UNAVAILABLE', 'DATABASE_BUSY', 'QUERY_TIMEOUT']);

/** Whether `tree` holds a supervisor named `name`. */
export function runsSupervisor(tree: TreeNode, name: string): boolean {
  if (tree.kind === 'supervisor' && tree.name === name) return true;
  return (tree.children ?? []).some((c) => runsSupervisor(c, name));
}

/** ok when every node did it, failed when none did, timeout when none answered, partial otherwise. */
export function overallOutcome(results: readonly CommandResult[]): 'ok' | 'partial' | 'failed' | 'timeout' {
  if (results.every((r) => r.outcome === 'ok')) return 'ok';
  if (results.every((r) => r.outcome === 'timeout')) return 'timeout';
  return results.some((r) => r.outcome === 'ok') ? 'partial' : 'failed';
}

export class ControlService {
  constructor(private readonly deps: ControlServiceDeps) {}

  /**
   * The incarnations the registry takes for alive now (the only liveness there is), one per node id: the newest
   * (two alive under one id are a misconfiguration the registry warns about).
   */
  async alive(): Promise<NodeRow[]> {
    const rows = (await listNodes(await this.deps.db())).filter((r) => r.alive);
    this.deps.plane.forgetExcept(new Set(rows.map((r) => r.incarnation)));
    const newest = new Map<string, NodeRow>();
    for (const r of rows) if (!newest.has(r.nodeId) || newest.get(r.nodeId)!.startedAt < r.startedAt) newest.set(r.nodeId, r);
    return [...newest.values()];
  }

  async nodes(): Promise<{ nodes: ClusterNode[] }> {
    const now = this.deps.now();
    return {
      nodes: (await this.alive()).map((r) => {
        const kept = this.deps.plane.snapshotOf(r.incarnation);
        return {
          node: r.nodeId,
          role: r.role,
          host: r.host,
          pid: r.pid,
          incarnation: r.incarnation,
          startedAt: r.startedAt.toISOString(),
          heartbeatAt: r.heartbeatAt.toISOString(),
          snapshotAgeMs: kept ? Math.max(0, now - kept.receivedAt) : null,
        };
      }),
    };
  }

  /** Alive nodes' trees; `node` narrows to one, NODE_NOT_FOUND when it is not alive or sent no snapshot yet. */
  async trees(node?: string): Promise<{ nodes: NodeTree[] }> {
    const now = this.deps.now();
    const trees: NodeTree[] = [];
    for (const r of await this.alive()) {
      const kept = this.deps.plane.snapshotOf(r.incarnation);
      if (!kept || (node !== undefined && r.nodeId !== node)) continue;
      trees.push({ node: r.nodeId, role: r.role, at: kept.snapshot.at, ageMs: Math.max(0, now - kept.receivedAt), tree: kept.snapshot.tree });
    }
    if (node !== undefined && trees.length === 0) throw new NodeNotFoundError(node);
    return { nodes: trees };
  }

  /**
   * Restarts supervisor `name` on `node`, or on every alive node running it (by its snapshot; a node with none yet
   * is asked too, and its "not here" left out). The audit row is written whatever the outcome, before answering.
   */
  async restart(caller: Caller, name: string, reason: string, node?: string): Promise<RestartOutcome> {
    if (name === this.deps.rootName) throw new ValidationError([{ path: 'params.name', message: 'the root supervisor cannot be restarted; restart the process' }]);
    let targets: CommandTarget[];
    if (node !== undefined && node !== this.deps.self.node) {
      const row = (await this.alive()).find((r) => r.nodeId === node);
      if (!row) {
        await this.audit(caller, name, reason, node, 'failed', [], 'NODE_NOT_FOUND');
        throw new NodeNotFoundError(node);
      }
      targets = [{ node: row.nodeId, incarnation: row.incarnation }];
    } else if (node !== undefined) {
      targets = [this.deps.self];
    } else {
      targets = (await this.everyNode()).filter((t) => {
        const kept = this.deps.plane.snapshotOf(t.incarnation);
        return !kept || runsSupervisor(kept.snapshot.tree, name);
      });
    }
    const answers = await this.deps.plane.send(targets, { type: 'restart-supervisor', name, reason });
    // Cluster-wide, a node that does not run it is not part of the answer.
    const results = node === undefined ? answers.filter((r) => r.error?.code !== 'SUPERVISOR_NOT_FOUND') : answers;
    if (results.length === 0 || (node !== undefined && results[0]?.error?.code === 'SUPERVISOR_NOT_FOUND')) {
      await this.audit(caller, name, reason, node, 'failed', answers, 'SUPERVISOR_NOT_FOUND');
      throw new SupervisorNotFoundError(name);
    }
    const outcome = overallOutcome(results);
    const auditId = await this.audit(caller, name, reason, node, outcome, results);
    if (node !== undefined && outcome === 'timeout') throw new NodeTimeoutError(node, this.deps.commandTimeoutMs);
    return { supervisor: name, reason, auditId, results };
  }

  /** Sends a command to one alive node (its answer, NODE_NOT_FOUND or NODE_TIMEOUT) or to every alive node. */
  async send(to: string, command: ControlCommand): Promise<CommandResult[]> {
    if (to === ALL_NODES) return this.deps.plane.send(await this.everyNode(), command);
    const row = to === this.deps.self.node ? this.deps.self : (await this.alive()).map((r) => ({ node: r.nodeId, incarnation: r.incarnation })).find((t) => t.node === to);
    if (!row) throw new NodeNotFoundError(to);
    const results = await this.deps.plane.send([row], command);
    if (results[0]?.outcome === 'timeout') throw new NodeTimeoutError(to, this.deps.commandTimeoutMs);
    return results;
  }

  /**
   * Every node a command "to all" goes to: those the registry takes for alive, and this one. While the registry cannot
   * be read (PostgreSQL away) that is this node alone — on-call can still restart the part of it that is wedged.
   */
  private async everyNode(): Promise<CommandTarget[]> {
    const alive = await this.alive().catch(() => []);
    const others = alive.filter((r) => r.nodeId !== this.deps.self.node).map((r) => ({ node: r.nodeId, incarnation: r.incarnation }));
    return [this.deps.self, ...others];
  }

  /** The audit row, waiting out a PostgreSQL pool being restarted (never giving up on a transient error early). */
  private async audit(caller: Caller, name: string, reason: string, node: string | undefined, outcome: string, results: readonly CommandResult[], error?: string): Promise<string> {
    const deadline = this.deps.now() + (this.deps.auditWaitMs ?? 15_000);
    for (;;) {
      try {
        return await this.writeAudit(caller, name, reason, node, outcome, results, error);
      } catch (e) {
        if (!TRANSIENT.has(errorCode(e) ?? '') || this.deps.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async writeAudit(caller: Caller, name: string, reason: string, node: string | undefined, outcome: string, results: readonly CommandResult[], error?: string): Promise<string> {
    const { id } = await recordOperation(await this.deps.db(), {
      actor: { userId: caller.userId, role: caller.role },
      action: 'supervisor.restart',
      target: name,
      ...(node !== undefined ? { node } : {}),
      reason,
      outcome,
      detail: { results, ...(error ? { error } : {}) },
    });
    return id;
  }
}
