// Zod schemas of the supervision contracts, for OpenAPI; the type checks below keep them in step with the TS types.
import { z } from 'zod';
import { ACTOR_STATES, type ActorStats, type ReadinessReport, type TreeNode } from '../../src/contracts/supervision.js';

const ActorStateSchema = z.enum(ACTOR_STATES).meta({ id: 'ActorState' });

export const ActorStatsSchema = z
  .object({
    state: ActorStateSchema,
    mailboxDepth: z.number().int(),
    handled: z.number().int(),
    crashes: z.number().int(),
    restarts: z.number().int(),
    lastError: z.object({ message: z.string(), code: z.string().optional(), at: z.string() }).optional(),
    detail: z.string().optional(),
  })
  .meta({ id: 'ActorStats' });

export const TreeNodeSchema = z
  .object({
    path: z.string().meta({ example: 'root/resources/postgres' }),
    name: z.string(),
    kind: z.enum(['supervisor', 'actor']),
    stats: ActorStatsSchema,
    strategy: z.enum(['one-for-one', 'rest-for-one']).optional(),
    readiness: z.enum(['required', 'optional']).optional(),
    get children() {
      return z.array(TreeNodeSchema).optional();
    },
  })
  .meta({ id: 'TreeNode', description: "A node of this process's supervision tree." });

export const ReadinessReportSchema = z
  .object({
    ready: z.boolean(),
    role: z.string(),
    parts: z.array(
      z.object({ name: z.string(), state: ActorStateSchema, ready: z.boolean(), required: z.boolean(), detail: z.string().optional() }),
    ),
    queues: z
      .object({
        state: z.enum(['known', 'unknown']),
        queues: z.array(z.object({ queue: z.string(), consumers: z.number().int(), flagged: z.boolean(), paused: z.boolean() })),
        flagged: z.array(z.string()),
        paused: z.array(z.string()).meta({ description: 'Queues paused by an admin: no consumer on purpose, not flagged.' }),
      })
      .optional()
      .meta({ description: 'API instances: consumers of each priority queue across the cluster; a queue with none is flagged (an alert, not unreadiness).' }),
  })
  .meta({ id: 'ReadinessReport' });

// Compile-time: each schema describes exactly what its contract carries, in both directions.
type DeepMutable<T> = T extends readonly (infer U)[] ? DeepMutable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
type Same<Schema extends z.ZodType, Contract> = [z.output<Schema>] extends [DeepMutable<Contract>] ? ([DeepMutable<Contract>] extends [z.output<Schema>] ? true : false) : false;
const schemasMatchContracts: [Same<typeof ActorStatsSchema, ActorStats>, Same<typeof TreeNodeSchema, TreeNode>, Same<typeof ReadinessReportSchema, ReadinessReport>] = [true, true, true];
void schemasMatchContracts;
