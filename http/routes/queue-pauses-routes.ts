// On-call: pausing and resuming one priority queue (its messages stay queued while paused).
import { z } from 'zod';
import type { Gateway } from '../../src/contracts/gateway.js';
import { queuePauseBody, queuePauseAnswerSchema } from '../../src/contracts/queue-pauses-messages.js';
import { ROUTE_DEADLINES_MS } from '../deadlines.js';
import { defineRoute, type RouteDefinition } from '../route.js';

const QueueName = z.string().max(100).meta({ example: 'low_priority', description: 'urgent, high_priority, normal or low_priority' });

export function queuePauseRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/queues/:name/pause',
      summary: 'Pause one priority queue: its consumers stop taking messages, which stay queued.',
      description:
        'Stored in PostgreSQL (a restarted worker stays paused) and applied to the running consumers; batches in flight finish. ' +
        'Pausing a paused queue keeps its first pause. Not a priority queue: 404 `QUEUE_NOT_FOUND`.',
      auth: ['admin'],
      request: { params: z.object({ name: QueueName }), body: queuePauseBody },
      responses: { 200: queuePauseAnswerSchema },
      async handler(ctx, { params, body }, caller) {
        ctx.body = await deps.gateway.ask('queue-pauses', 'pause', { caller, queue: params.name, reason: body.reason }, { deadlineMs: ROUTE_DEADLINES_MS.controlCommand });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/queues/:name/resume',
      summary: 'Resume a paused priority queue: its consumers take its waiting messages again.',
      description: 'Resuming a queue that is not paused answers the same. Not a priority queue: 404 `QUEUE_NOT_FOUND`.',
      auth: ['admin'],
      request: { params: z.object({ name: QueueName }), body: queuePauseBody },
      responses: { 200: queuePauseAnswerSchema },
      async handler(ctx, { params, body }, caller) {
        ctx.body = await deps.gateway.ask('queue-pauses', 'resume', { caller, queue: params.name, reason: body.reason }, { deadlineMs: ROUTE_DEADLINES_MS.controlCommand });
      },
    }),
  ];
}
