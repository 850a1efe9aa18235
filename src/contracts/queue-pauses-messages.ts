// Messages of the queue-pauses actor (POST /admin/queues/{name}/pause|resume) and their shapes.
import { z } from 'zod';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

export const queuePauseBody = z.object({
  reason: z.string().trim().min(1).max(500).meta({ description: 'Why, kept with the pause (and for the operations audit).' }),
});

export const queuePauseStateSchema = z.object({
  queue: z.string().meta({ example: 'low_priority' }),
  paused: z.boolean(),
  pausedAt: z.string().nullable().meta({ description: 'When the queue was paused (ISO 8601); null once resumed.' }),
  pausedBy: z.string().nullable().meta({ description: 'The admin who paused it; null once resumed.' }),
  reason: z.string().nullable().meta({ description: "The pause's reason, or the resume's." }),
});

/** The state of one queue as the admin routes answer it. */
export type QueuePauseState = z.output<typeof queuePauseStateSchema>;

/** A pause or resume as the admin routes answer it: the queue's state and how each node's consumers took it. */
export const queuePauseAnswerSchema = queuePauseStateSchema.extend({
  applied: z
    .array(z.object({ node: z.string(), outcome: z.enum(['ok', 'failed', 'timeout']) }))
    .meta({ description: "Each node's answer to re-reading the pauses (a node that missed it follows the table at its next start)." }),
  applyError: z.string().nullable().meta({ description: 'Why it could not be sent to the running consumers now; stored all the same.' }),
});
export type QueuePauseAnswer = z.output<typeof queuePauseAnswerSchema>;

export type QueuePausesMessage =
  | { type: 'pause'; caller: Caller; queue: string; reason: string; replyTo: Reply<QueuePauseAnswer> }
  | { type: 'resume'; caller: Caller; queue: string; reason: string; replyTo: Reply<QueuePauseAnswer> };
