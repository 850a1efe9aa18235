// Messages of the dashboard actor (GET /v1/dashboard: an agency's or every agency's counts) and their shapes.
import { z } from 'zod';
import { withoutNul } from '../domain/stored-text.js';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

export const REQUEST_STATUSES = ['open', 'in_progress', 'resolved', 'rejected'] as const;

export const dashboardQuery = z.object({
  agency: withoutNul(z.string().min(1).max(64))
    .optional()
    .meta({ example: 'DAKAR-PLATEAU', description: "One agency's counts (an admin's choice; an agent may name only their own). Absent: an admin sees all agencies." }),
});

const count = z.number().int().nonnegative();

export const dashboardSchema = z.object({
  agency: z.string().nullable().meta({ description: 'The agency counted; null: all agencies.' }),
  generatedAt: z.string().meta({ description: 'ISO 8601: when these counts were read (they are cached briefly).' }),
  meterLinks: z.object({
    pending: count.meta({ description: 'Meter access requests waiting for a decision.' }),
    oldestPendingAgeSeconds: count.nullable().meta({ description: 'How long the oldest of them has waited; null when none waits.' }),
  }),
  requests: z
    .array(
      z.object({
        status: z.enum(REQUEST_STATUSES),
        total: count,
        underOneDay: count,
        oneToSevenDays: count,
        sevenToThirtyDays: count,
        overThirtyDays: count,
      }),
    )
    .meta({
      description:
        'Every status, by the age of the request (since it was filed): open and in_progress count every request; resolved and rejected those filed in the last 30 days (so their overThirtyDays is 0).',
    }),
  notifications: z.object({
    since: z.string().meta({ description: 'The first day counted (UTC, which is Dakar time): the last 30 days, today included.' }),
    days: z
      .array(
        z.object({
          day: z.string().meta({ description: 'YYYY-MM-DD, the day the job was accepted.' }),
          type: z.string(),
          jobs: count,
          done: count.meta({ description: 'Jobs finished: every target reached or given up on.' }),
          failed: count.meta({ description: 'Jobs that failed as a whole.' }),
          inFlight: count.meta({ description: 'Jobs accepted, fanning out or sending.' }),
          pushesSent: count.meta({ description: 'Pushes FCM accepted, summed over the jobs.' }),
          pushesFailed: count.meta({ description: 'Pushes that failed for good, summed over the jobs.' }),
          inboxEntries: count.meta({ description: 'Inbox entries written, summed over the jobs.' }),
        }),
      )
      .meta({ description: "Per day and type, the days and types with jobs only. An agency's: the jobs its agents sent." }),
  }),
  customers: z.object({
    active: count.meta({ description: "Customers with at least one active meter link (an agency's: a link to one of its meters)." }),
  }),
});
export type Dashboard = z.output<typeof dashboardSchema>;

export type DashboardMessage = { type: 'read'; caller: Caller; agency: string | undefined; replyTo: Reply<Dashboard> };
