// What travels on the control exchange, checked with zod on receipt (a message from an older or broken node is
// dropped, never trusted): commands addressed to one node or to all, their replies routed back to the asking node,
// and each node's periodic snapshot of its supervision tree.
import { z } from 'zod';
import type { ControlCommand } from '../contracts/control-plane-messages.js';
import { ACTOR_STATES, type TreeNode } from '../contracts/supervision.js';

/** Addressed to every node (the control bus's EVERY_NODE). */
export { EVERY_NODE as ALL_NODES } from '../adapters/broker/control-bus.js';

// Typed as the contract's ControlCommand: the wire and the contract cannot drift apart.
export const ControlCommandSchema: z.ZodType<ControlCommand> = z.discriminatedUnion('type', [
  /** Restart one supervisor of the receiving node (its subtree only). */
  z.object({ type: z.literal('restart-supervisor'), name: z.string().min(1).max(200), reason: z.string().min(1).max(500) }),
  /** Tell the node's consumers to read the queue pauses again (no-op on a node without consumers). */
  z.object({ type: z.literal('apply-queue-pauses') }),
]);

const StatsSchema = z.object({
  state: z.enum(ACTOR_STATES),
  mailboxDepth: z.number(),
  handled: z.number(),
  crashes: z.number(),
  restarts: z.number(),
  lastError: z.object({ message: z.string(), code: z.string().optional(), at: z.string() }).optional(),
  detail: z.string().optional(),
});

const TreeSchema: z.ZodType<TreeNode> = z.lazy(() =>
  z.object({
    path: z.string(),
    name: z.string(),
    kind: z.enum(['supervisor', 'actor']),
    stats: StatsSchema,
    strategy: z.enum(['one-for-one', 'rest-for-one']).optional(),
    readiness: z.enum(['required', 'optional']).optional(),
    children: z.array(TreeSchema).optional(),
  }),
) as z.ZodType<TreeNode>;

export const CommandEnvelopeSchema = z.object({
  kind: z.literal('command'),
  /** Correlation id: the reply carries it back. */
  id: z.string().min(1).max(100),
  /** The asking node: replies are addressed to it. */
  from: z.string().min(1),
  /** A node id, or ALL_NODES. */
  to: z.string().min(1),
  /** The incarnation addressed: another process under the same node id (a restart, a twin) leaves it alone. */
  incarnation: z.string().min(1).optional(),
  command: ControlCommandSchema,
});
export type CommandEnvelope = z.infer<typeof CommandEnvelopeSchema>;

export const ReplyEnvelopeSchema = z.object({
  kind: z.literal('reply'),
  id: z.string().min(1).max(100),
  /** The answering node. */
  from: z.string().min(1),
  to: z.string().min(1),
  ok: z.boolean(),
  /** On success: what the command did (e.g. `{ restarted: 'consumers' }`). */
  result: z.record(z.string(), z.unknown()).optional(),
  /** On failure: the typed error's code and message. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type ReplyEnvelope = z.infer<typeof ReplyEnvelopeSchema>;

export const SnapshotEnvelopeSchema = z.object({
  kind: z.literal('snapshot'),
  node: z.string().min(1),
  role: z.string(),
  incarnation: z.string(),
  /** ISO time on the sending node's clock (age is judged on arrival, by the receiver's clock). */
  at: z.string(),
  tree: TreeSchema,
});
export type SnapshotEnvelope = z.infer<typeof SnapshotEnvelopeSchema>;

export const ControlEnvelopeSchema = z.discriminatedUnion('kind', [CommandEnvelopeSchema, ReplyEnvelopeSchema, SnapshotEnvelopeSchema]);
export type ControlEnvelope = z.infer<typeof ControlEnvelopeSchema>;

/** The envelope, or undefined when it is not one (logged by the caller, then dropped). */
export function parseEnvelope(raw: unknown): ControlEnvelope | undefined {
  const parsed = ControlEnvelopeSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
