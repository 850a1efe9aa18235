// Zod schemas of the control plane's shapes (GET /admin/nodes, /admin/supervisors, the restart's outcome), for
// OpenAPI; the type checks below keep them in step with src/contracts/control-plane-messages.ts.
import { z } from 'zod';
import type { ClusterNode, CommandResult, NodeTree, RestartOutcome } from '../../src/contracts/control-plane-messages.js';
import { TreeNodeSchema } from './supervision.js';

export const ClusterNodeSchema = z
  .object({
    node: z.string().meta({ description: 'The node id (NODE_ID).', example: 'worker-1' }),
    role: z.string().meta({ example: 'worker' }),
    host: z.string(),
    pid: z.number().int(),
    incarnation: z.string().meta({ description: 'Changes at every start of the process.' }),
    startedAt: z.string(),
    heartbeatAt: z.string().meta({ description: 'Its last heartbeat in the node registry (the database clock).' }),
    snapshotAgeMs: z.number().nullable().meta({ description: 'Age of its last tree snapshot here; null: none received yet.' }),
  })
  .meta({ id: 'ClusterNode', description: 'A node the registry takes for alive.' });

export const NodeTreeSchema = z
  .object({
    node: z.string(),
    role: z.string(),
    at: z.string().meta({ description: 'When the node took the snapshot (its clock).' }),
    ageMs: z.number().meta({ description: 'How old the snapshot is, by the answering node’s clock.' }),
    tree: TreeNodeSchema,
  })
  .meta({ id: 'NodeTree', description: "One node's supervision tree, from its last snapshot." });

export const CommandResultSchema = z
  .object({
    node: z.string(),
    outcome: z.enum(['ok', 'failed', 'timeout']),
    result: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'CommandResult', description: "One node's answer to a control command." });

export const RestartOutcomeSchema = z
  .object({
    supervisor: z.string(),
    reason: z.string(),
    auditId: z.string().meta({ description: 'The operations_audit row recording the restart.' }),
    results: z.array(CommandResultSchema),
  })
  .meta({ id: 'RestartOutcome' });

// Compile-time: each schema describes exactly what its contract carries, in both directions.
type DeepMutable<T> = T extends readonly (infer U)[] ? DeepMutable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
type Same<Schema extends z.ZodType, Contract> = [z.output<Schema>] extends [DeepMutable<Contract>] ? ([DeepMutable<Contract>] extends [z.output<Schema>] ? true : false) : false;
const schemasMatchContracts: [Same<typeof ClusterNodeSchema, ClusterNode>, Same<typeof NodeTreeSchema, NodeTree>, Same<typeof CommandResultSchema, CommandResult>, Same<typeof RestartOutcomeSchema, RestartOutcome>] = [
  true,
  true,
  true,
  true,
];
void schemasMatchContracts;
