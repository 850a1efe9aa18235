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

export type QueuePausesMessage =
  | { type: 'pause'; caller: Caller; queue: string; reason: string; replyTo: Reply<QueuePauseState> }
  | { type: 'resume'; caller: Caller; queue: string; reason: string; replyTo: Reply<QueuePauseState> };
