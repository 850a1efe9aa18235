// The control plane of one node: it listens on the control bus for commands addressed to it (or to all) and runs
// them, answers to the asking node, sends commands and waits for their answers (correlation id, timeout), and
// keeps the snapshots of every node's tree that arrive (API nodes). Which nodes are alive is never judged here:
// callers address the incarnations the node registry takes for alive, and show only their snapshots.
import { randomUUID } from 'node:crypto';
import type { ControlBus } from '../adapters/broker/control-bus.js';
import type { CommandResult, ControlCommand } from '../contracts/control-plane-messages.js';
import type { TreeNode } from '../contracts/supervision.js';
import { errorCode, errorMessage } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import { ALL_NODES, parseEnvelope, type CommandEnvelope, type ReplyEnvelope, type SnapshotEnvelope } from './control-wire.js';
import type { NodeIdentity } from './node-registry.js';

export interface ControlPlaneDeps {
  readonly bus: ControlBus;
  readonly identity: NodeIdentity;
  readonly log: Logger;
  /** Keep the other nodes' snapshots (API nodes). */
  readonly keepSnapshots: boolean;
  /** How long a command waits for its node's answer. */
  readonly commandTimeoutMs: number;
  /** Wall time (snapshot ages): the registry's liveness is wall time too, never a test's manual clock. */
  readonly now: () => number;
  /** This node's tree now. */
  tree(): TreeNode;
  /** Runs a command addressed to this node; resolves with what it did, rejects with a typed error. */
  execute(command: ControlCommand): Promise<Record<string, unknown>>;
}

export interface KeptSnapshot {
  readonly snapshot: SnapshotEnvelope;
  /** This node's wall time when it arrived. */
  readonly receivedAt: number;
}

/** A node to command: its id and the incarnation the registry takes for alive. */
export interface CommandTarget {
  readonly node: string;
  readonly incarnation: string;
}

interface Pending {
  readonly waiting: Set<string>;
  readonly results: Map<string, CommandResult>;
  readonly done: (results: Map<string, CommandResult>) => void;
}

export const timeoutResult = (node: string, timeoutMs: number): CommandResult => ({
  node,
  outcome: 'timeout',
  error: { code: 'NODE_TIMEOUT', message: `node ${node} did not answer within ${timeoutMs} ms` },
});

export class ControlPlane {
  private readonly pending = new Map<string, Pending>();
  /** By incarnation: two processes under one node id (a test process, a misconfiguration) keep their own. */
  private readonly kept = new Map<string, KeptSnapshot>();

  constructor(private readonly deps: ControlPlaneDeps) {}

  get nodeId(): string {
    return this.deps.identity.nodeId;
  }

  /** Starts listening; messages are handed to `deliver` (the actor sends them through its mailbox). */
  listen(deliver: (raw: unknown) => void): Promise<void> {
    return this.deps.bus.listen({ nodeId: this.nodeId, snapshots: this.deps.keepSnapshots }, deliver);
  }

  /** Handles one message from the bus: a command to run, an answer to a command sent, or a snapshot to keep. */
  receive(raw: unknown): void {
    const envelope = parseEnvelope(raw);
    if (!envelope) {
      this.deps.log.warn('control plane: a message that is not a control envelope was dropped');
      return;
    }
    switch (envelope.kind) {
      case 'command':
        if ((envelope.to === ALL_NODES || envelope.to === this.nodeId) && (envelope.incarnation ?? this.deps.identity.incarnation) === this.deps.identity.incarnation) this.run(envelope);
        return;
      case 'reply':
        if (envelope.to === this.nodeId) this.answered(envelope);
        return;
      case 'snapshot':
        if (this.deps.keepSnapshots) this.kept.set(envelope.incarnation, { snapshot: envelope, receivedAt: this.deps.now() });
        return;
    }
  }

  /** Publishes this node's tree now. */
  publishSnapshot(): Promise<void> {
    const { identity } = this.deps;
    const snapshot: SnapshotEnvelope = {
      kind: 'snapshot',
      node: identity.nodeId,
      role: identity.role,
      incarnation: identity.incarnation,
      at: new Date(this.deps.now()).toISOString(),
      tree: this.deps.tree(),
    };
    return this.deps.bus.publishSnapshot(identity.nodeId, snapshot);
  }

  /** The last snapshot of an incarnation, if one arrived. */
  snapshotOf(incarnation: string): KeptSnapshot | undefined {
    return this.kept.get(incarnation);
  }

  /** Forgets the snapshots of incarnations no longer alive. */
  forgetExcept(alive: ReadonlySet<string>): void {
    for (const incarnation of this.kept.keys()) if (!alive.has(incarnation)) this.kept.delete(incarnation);
  }

  /**
   * Sends `command` to each target and resolves with every node's answer (in the targets' order) once all answered
   * or the timeout passed (the silent ones then `timeout`); answers from nodes not asked are ignored.
   */
  send(targets: readonly CommandTarget[], command: ControlCommand): Promise<CommandResult[]> {
    const wanted = [...new Map(targets.map((t) => [t.node, t])).values()];
    if (wanted.length === 0) return Promise.resolve([]);
    const id = randomUUID();
    const timeoutMs = this.deps.commandTimeoutMs;
    return new Promise<CommandResult[]>((resolve) => {
      const finish = (results: Map<string, CommandResult>): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(wanted.map(({ node }) => results.get(node) ?? timeoutResult(node, timeoutMs)));
      };
      const entry: Pending = { waiting: new Set(wanted.map((t) => t.node)), results: new Map(), done: finish };
      const timer = setTimeout(() => finish(entry.results), timeoutMs);
      timer.unref();
      this.pending.set(id, entry);
      // One message per node addressed (never one to all): a node not asked must not run the command.
      for (const { node, incarnation } of wanted) {
        const envelope: CommandEnvelope = { kind: 'command', id, from: this.nodeId, to: node, incarnation, command };
        this.deps.bus.send(node, envelope).catch((error: unknown) => {
          // Not sent (RabbitMQ away): that node fails now rather than at the timeout.
          if (!entry.waiting.delete(node)) return;
          entry.results.set(node, { node, outcome: 'failed', error: { code: errorCode(error) ?? 'BROKER_UNAVAILABLE', message: errorMessage(error) } });
          if (entry.waiting.size === 0) finish(entry.results);
        });
      }
    });
  }

  /** Pending commands end as timed out; nothing more is kept. */
  close(): void {
    for (const p of [...this.pending.values()]) p.done(p.results);
  }

  private run(envelope: CommandEnvelope): void {
    const answer = (reply: Omit<ReplyEnvelope, 'kind' | 'id' | 'from' | 'to'>): void => {
      const message: ReplyEnvelope = { kind: 'reply', id: envelope.id, from: this.nodeId, to: envelope.from, ...reply };
      this.deps.bus.send(envelope.from, message).catch((error: unknown) => this.deps.log.warn({ err: error, to: envelope.from }, 'control plane: answer not sent'));
    };
    this.deps.log.info({ command: envelope.command.type, from: envelope.from }, 'control command received');
    this.deps.execute(envelope.command).then(
      (result) => {
        answer({ ok: true, result });
        // The change shows at once in the cluster view, not at the next interval.
        this.publishSnapshot().catch(() => undefined);
      },
      (error: unknown) => answer({ ok: false, error: { code: errorCode(error) ?? 'INTERNAL', message: errorMessage(error) } }),
    );
  }

  private answered(reply: ReplyEnvelope): void {
    const p = this.pending.get(reply.id);
    if (!p || !p.waiting.has(reply.from)) return;
    p.waiting.delete(reply.from);
    p.results.set(
      reply.from,
      reply.ok
        ? { node: reply.from, outcome: 'ok', ...(reply.result ? { result: reply.result } : {}) }
        : { node: reply.from, outcome: 'failed', ...(reply.error ? { error: reply.error } : {}) },
    );
    if (p.waiting.size === 0) p.done(p.results);
  }
}
