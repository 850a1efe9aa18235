// Messages of the control-plane actor: the cluster as on-call sees it (alive nodes, each node's last snapshot of
// its supervision tree) and commands sent to one node or to every node through the control exchange.
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';
import type { TreeNode } from './supervision.js';

/** What one node can be told to do (the wire schema, src/cluster/control-wire.ts, checks the same shape). */
export type ControlCommand =
  | { readonly type: 'restart-supervisor'; readonly name: string; readonly reason: string }
  | { readonly type: 'apply-queue-pauses' };

/** One node's answer to a command: `ok` (with what it did), `failed` (with the typed error), or `timeout`. */
export interface CommandResult {
  readonly node: string;
  readonly outcome: 'ok' | 'failed' | 'timeout';
  readonly result?: Readonly<Record<string, unknown>>;
  readonly error?: { readonly code: string; readonly message: string };
}

/** An alive node as the registry has it, with the age of its last snapshot here (null: none received yet). */
export interface ClusterNode {
  readonly node: string;
  readonly role: string;
  readonly host: string;
  readonly pid: number;
  readonly incarnation: string;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly snapshotAgeMs: number | null;
}

/** One node's supervision tree, from its last snapshot. */
export interface NodeTree {
  readonly node: string;
  readonly role: string;
  /** When the node took the snapshot (its clock), and how old it is by this node's clock. */
  readonly at: string;
  readonly ageMs: number;
  readonly tree: TreeNode;
}

export interface RestartOutcome {
  readonly supervisor: string;
  readonly reason: string;
  /** The operations_audit row recording it. */
  readonly auditId: string;
  readonly results: readonly CommandResult[];
}

export type ControlPlaneMessage =
  | { type: 'nodes'; replyTo: Reply<{ nodes: ClusterNode[] }> }
  /** Alive nodes' trees; `node` narrows to one (NODE_NOT_FOUND when it is not alive or sent no snapshot yet). */
  | { type: 'trees'; node?: string; replyTo: Reply<{ nodes: NodeTree[] }> }
  /** Restarts `name` on `node`, or on every alive node running it; audited. */
  | { type: 'restart-supervisor'; name: string; reason: string; node?: string; caller: Caller; replyTo: Reply<RestartOutcome> }
  /** Sends a command to one node (its answer, NODE_NOT_FOUND or NODE_TIMEOUT) or to every alive node (each answer). */
  | { type: 'send'; to: string; command: ControlCommand; replyTo: Reply<CommandResult[]> };
