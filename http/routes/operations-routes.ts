// On-call: the broker's queues from its own counters, the dead letters and their replay, and recent notification jobs. Admin only.
import type { Gateway } from '../../src/contracts/gateway.js';
import { replayBody, replayResultSchema, deadLetterSchema, deadLettersQuery, jobsListQuery, jobsPageSchema, queueOverviewSchema } from '../../src/contracts/operations-messages.js';
import { z } from 'zod';
import { ROUTE_DEADLINES_MS } from '../deadlines.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function operationsRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/queues',
      summary: 'Each priority queue and the dead-letter queue: depth, rates and consumers from the broker, and whether it is paused.',
      description: "Read from RabbitMQ's management API; while it cannot be read the answer is 503 BROKER_MANAGEMENT_UNAVAILABLE.",
      auth: ['admin'],
      responses: { 200: z.object({ queues: z.array(queueOverviewSchema) }) },
      async handler(ctx) {
        ctx.body = { queues: await deps.gateway.ask('broker-admin', 'queues', {}) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/dead-letters',
      summary: 'The first dead letters (up to 1000): why, after how many attempts, which job and how many tokens. None is consumed.',
      auth: ['admin'],
      request: { query: deadLettersQuery },
      responses: { 200: z.object({ deadLetters: z.array(deadLetterSchema) }) },
      async handler(ctx, { query }) {
        ctx.body = { deadLetters: await deps.gateway.ask('broker-admin', 'dead-letters', { limit: query.limit }, { deadlineMs: ROUTE_DEADLINES_MS.deadLetterBrowse }) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/dead-letters/replay',
      summary: 'Send dead letters back to their queue: all, one job\'s, or the named messages (among the first 1000).',
      description:
        'Give exactly one of `all`, `jobId` and `messageIds`, and a `reason` (audited). Each dead letter chosen is ' +
        'republished to the priority queue it died in and acknowledged only once the broker confirmed the copy; the others ' +
        'stay. A replayed batch keeps its batch id, so a batch already recorded is not sent again and tokens already ' +
        'answered are skipped.',
      auth: ['admin'],
      request: { body: replayBody },
      responses: { 200: replayResultSchema },
      async handler(ctx, { body }, caller) {
        ctx.body = await deps.gateway.ask('broker-admin', 'replay', { caller, body }, { deadlineMs: ROUTE_DEADLINES_MS.deadLetterReplay });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/jobs',
      summary: 'Recent notification jobs with their counts and state, newest first, in cursor pages.',
      description: 'Filter by `state`, `type` and `since` (creation time); `nextCursor` is null on the last page.',
      auth: ['admin'],
      request: { query: jobsListQuery },
      responses: { 200: jobsPageSchema },
      async handler(ctx, { query }) {
        ctx.body = await deps.gateway.ask('broker-admin', 'jobs', { query });
      },
    }),
  ];
}
