// Messages of the broker-admin actor (/admin/queues, /admin/jobs, /admin/dead-letters) and the shapes the HTTP layer validates with.
import { z } from 'zod';
import { decodeJobCursor } from '../domain/job-cursor.js';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

export const queueOverviewSchema = z.object({
  name: z.string(),
  kind: z.enum(['priority', 'dead_letter']),
  ready: z.number().int(),
  unacked: z.number().int(),
  consumers: z.number().int(),
  publishRate: z.number().meta({ description: 'Messages per second, from the broker\'s last sample.' }),
  deliverRate: z.number(),
  ackRate: z.number(),
  published: z.number().int(),
  delivered: z.number().int(),
  acked: z.number().int(),
  paused: z.boolean().nullable().meta({ description: 'Null for the dead-letter queue, or when pauses cannot be read.' }),
});
export type QueueOverview = z.infer<typeof queueOverviewSchema>;

export const JOB_STATES = ['accepted', 'fanning_out', 'sending', 'done', 'failed'] as const;
export const MAX_JOBS_PAGE = 100;

export const jobsListQuery = z.object({
  state: z.enum(JOB_STATES).optional(),
  type: z.string().min(1).max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'Only jobs created at or after this instant.' }),
  cursor: z
    .string()
    .refine((v) => decodeJobCursor(v) !== undefined, 'not a cursor this API issued')
    .optional()
    .meta({ description: "The previous page's nextCursor (opaque)." }),
  limit: z.coerce.number().int().min(1).max(MAX_JOBS_PAGE).default(20),
});
export type JobsListQuery = z.infer<typeof jobsListQuery>;

export const jobSummarySchema = z.object({
  id: z.uuid(),
  state: z.enum(JOB_STATES),
  type: z.string(),
  queue: z.string(),
  title: z.string().meta({ description: "The notification's title, as its sender wrote it (render it as text)." }),
  createdAt: z.string(),
  updatedAt: z.string(),
  counts: z.object({ targets: z.number().int(), inbox: z.number().int(), sent: z.number().int(), retried: z.number().int(), failed: z.number().int(), tokensRemoved: z.number().int() }),
  failureReason: z.string().nullable(),
});
export type JobSummary = z.infer<typeof jobSummarySchema>;

export const jobsPageSchema = z.object({ items: z.array(jobSummarySchema), nextCursor: z.string().nullable() });
export type JobsPage = z.infer<typeof jobsPageSchema>;

export const deadLettersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1_000).default(100).meta({ description: 'How many from the head of the queue, 1 to 1000.' }),
});

export const deadLetterSchema = z.object({
  messageId: z.string().nullable(),
  reason: z.string().nullable(),
  attempts: z.number().int().nullable(),
  originQueue: z.string().nullable(),
  jobId: z.string().nullable(),
  batchNo: z.number().int().nullable(),
  tokens: z.number().int().nullable().meta({ description: 'Tokens in the batch.' }),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** POST /admin/dead-letters/replay: exactly one selection (all, one job's, the named messages) and why. */
export const replayBody = z
  .strictObject({
    all: z.literal(true).optional().meta({ description: 'Every dead letter (among the first 1000).' }),
    jobId: z.uuid().optional().meta({ description: "One notification job's dead letters." }),
    messageIds: z.array(z.string().min(1).max(200)).min(1).max(1_000).optional().meta({ description: 'The dead letters with these message ids (GET /admin/dead-letters).' }),
    reason: z.string().trim().min(1).max(200).meta({ description: 'Why, for the operations audit.' }),
  })
  .refine((b) => [b.all, b.jobId, b.messageIds].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of all, jobId and messageIds',
    path: ['all'],
  });
export type ReplayBody = z.infer<typeof replayBody>;

export const replayResultSchema = z.object({
  replayed: z.number().int().meta({ description: 'Dead letters sent back to their queue, each confirmed by the broker.' }),
  messageIds: z.array(z.string().nullable()),
  skipped: z.number().int().meta({ description: 'Selected but left in the dead-letter queue: no priority queue to send them back to.' }),
  notFound: z.array(z.string()).meta({ description: 'Message ids asked for and not among the first 1000 dead letters.' }),
});
export type ReplayOutcome = z.infer<typeof replayResultSchema>;

export type BrokerAdminMessage =
  | { readonly type: 'queues'; readonly replyTo: Reply<QueueOverview[]> }
  | { readonly type: 'dead-letters'; readonly limit: number; readonly replyTo: Reply<DeadLetter[]> }
  | { readonly type: 'replay'; readonly caller: Caller; readonly body: ReplayBody; readonly replyTo: Reply<ReplayOutcome> }
  | { readonly type: 'jobs'; readonly query: JobsListQuery; readonly replyTo: Reply<JobsPage> };
