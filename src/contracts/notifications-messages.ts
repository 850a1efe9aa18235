// Messages of the notification-jobs and outbox-relay actors, and the shapes the HTTP layer validates with.
import { z } from 'zod';
import { PRIORITY_QUEUES, type PriorityQueue } from '../domain/priority.js';
import { storedText, withoutNul } from '../domain/stored-text.js';
import { dataKeyProblem, payloadProblem, type NotificationRequest, type NotificationTarget } from '../domain/notification-request.js';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

const userId = z.uuid();

export const notificationTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), userId }),
  z.object({ kind: z.literal('users'), userIds: z.array(userId).min(1).max(1_000) }),
  z.object({
    kind: z.literal('meter'),
    meter: storedText(32).meta({ example: '14250011223', description: 'A meter number (prepaid) or contract account (postpaid): every user with an active link to it.' }),
  }),
  z.object({ kind: z.literal('agency'), agency: storedText(64) }),
  z.object({ kind: z.literal('all_agencies') }),
  z.object({ kind: z.literal('everyone') }),
]);

export const priorityQueueSchema = z.enum(PRIORITY_QUEUES);

/** An idempotency key, as the body field `idempotencyKey` or the header `Idempotency-Key`. */
export const idempotencyKeyField = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** POST /v1/notifications: the one check of a request's form, FCM's data keys and size limit included (the 400 names the field). */
export const notificationRequestBody = z
  .object({
    target: notificationTargetSchema,
    type: storedText(64).meta({ example: 'planned_works', description: 'A notification type code (GET /v1/notification-types); it decides the queue.' }),
    priority: priorityQueueSchema.optional().meta({ description: "A queue other than the type's: lower for anyone, higher for an admin only." }),
    title: storedText(1_024),
    body: storedText(4_096),
    data: z
      .record(withoutNul(z.string().max(256)), withoutNul(z.string().max(4_096)))
      .default({})
      .meta({ description: 'String values only, as FCM carries them.' }),
    idempotencyKey: idempotencyKeyField
      .optional()
      .meta({ description: 'Scoped to the caller: the same key and request give the same job; another request with the key is a 409.' }),
  })
  .superRefine((v, ctx) => {
    for (const key of Object.keys(v.data)) {
      const problem = dataKeyProblem(key);
      if (problem) ctx.addIssue({ code: 'custom', path: ['data', key], message: problem });
    }
    const size = payloadProblem(v);
    if (size) ctx.addIssue({ code: 'custom', path: [size.field], message: size.message });
  });

export const jobIdParams = z.object({ id: z.string().meta({ description: 'The job id (uuid)' }) });

export const acceptedJobSchema = z.object({ jobId: z.uuid() });

export const jobStatusSchema = z.object({
  id: z.uuid(),
  state: z.enum(['accepted', 'fanning_out', 'sending', 'done', 'failed']),
  type: z.string(),
  queue: priorityQueueSchema,
  target: notificationTargetSchema,
  createdAt: z.string(),
  counts: z.object({
    targets: z.number().int(),
    inboxEntries: z.number().int(),
    sent: z.number().int(),
    retried: z.number().int(),
    failed: z.number().int(),
    tokensRemoved: z.number().int(),
  }),
  /** Set when the worker's job reaper settled the job: what was lost, or why the fan-out could not resume. */
  failureReason: z.string().optional(),
});

export type NotificationRequestBody = z.output<typeof notificationRequestBody>;

/** What accepting a job replies (POST /v1/notifications answers 202 with the id). */
export interface AcceptedJob {
  readonly jobId: string;
  /** True when an earlier request with the same idempotency key and body created the job. */
  readonly replayed: boolean;
}

export type JobState = 'accepted' | 'fanning_out' | 'sending' | 'done' | 'failed';

export interface JobStatus {
  readonly id: string;
  readonly state: JobState;
  readonly type: string;
  readonly queue: PriorityQueue;
  readonly target: NotificationTarget;
  readonly createdAt: string;
  readonly counts: {
    readonly targets: number;
    readonly inboxEntries: number;
    readonly sent: number;
    readonly retried: number;
    readonly failed: number;
    readonly tokensRemoved: number;
  };
  /** What the job reaper did to settle the job (lost tokens counted as failed, a fan-out that could not resume). */
  readonly failureReason?: string;
}

/** The outbox relay's counters, as its `stats` message replies. */
export interface RelayStats {
  readonly state: 'idle' | 'relaying' | 'backing-off';
  readonly published: number;
  readonly failedAttempts: number;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
}

export type NotificationJobsMessage =
  /** Accepts a job (job + outbox row in one transaction); `replayed` is true for a repeated idempotency key. */
  | { type: 'accept'; caller: Caller; input: NotificationRequest; replyTo: Reply<AcceptedJob> }
  | { type: 'status'; caller: Caller; jobId: string; replyTo: Reply<JobStatus> };

export type OutboxRelayMessage =
  /** Relay now (told after an accept): no reply. Ignored while backing off (the timer retries). */
  | { type: 'kick' }
  | { type: 'stats'; replyTo: Reply<RelayStats> };
