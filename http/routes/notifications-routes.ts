// Sending notifications: agents to their agency, admins to anyone. Accepting writes the job and its outbox row
// in one transaction (202 even while RabbitMQ is down); the status shows the job's state and counts.
import { acceptedJobSchema, idempotencyKeyField, jobIdParams, jobStatusSchema, notificationRequestBody } from '../../src/contracts/notifications-messages.js';
import type { Gateway } from '../../src/contracts/gateway.js';
import { ValidationError } from '../../src/errors/app-error.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function notificationRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  const { gateway } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/notifications',
      summary: 'Send a notification (agent: own agency; admin: anyone). Accepted for delivery: 202 with the job id.',
      description:
        "The type decides the queue; `priority` may lower it (only an admin raises it or sends to everyone / all agencies). The push (title, body, data) must fit FCM's 4096 bytes. An idempotency key (body field `idempotencyKey` or header `Idempotency-Key`) is scoped to the caller: the same key and request return the same job, another request with it is a 409.",
      auth: ['agent', 'admin'],
      request: { body: notificationRequestBody },
      responses: { 202: acceptedJobSchema },
      async handler(ctx, { body }, caller) {
        const header = ctx.get('Idempotency-Key') || undefined;
        let idempotencyKey = body.idempotencyKey;
        if (header !== undefined) {
          const parsed = idempotencyKeyField.safeParse(header);
          if (!parsed.success) throw new ValidationError([{ path: 'headers.idempotency-key', message: parsed.error.issues[0]?.message ?? 'invalid' }]);
          if (idempotencyKey !== undefined && idempotencyKey !== parsed.data) throw new ValidationError([{ path: 'body.idempotencyKey', message: 'differs from the Idempotency-Key header' }]);
          idempotencyKey = parsed.data;
        }
        const { jobId } = await gateway.ask('notification-jobs', 'accept', { caller, input: { ...body, idempotencyKey } });
        ctx.status = 202;
        ctx.set('Location', `/v1/notifications/${jobId}`);
        ctx.body = { jobId };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/notifications/:id',
      summary: "A notification job's state and counts (targets, inbox entries, sent, retried, failed, tokens removed).",
      description: "Visible to the agents of the creator's agency and to admins; anyone else gets 404.",
      auth: ['agent', 'admin'],
      request: { params: jobIdParams },
      responses: { 200: jobStatusSchema },
      async handler(ctx, { params }, caller) {
        ctx.body = await gateway.ask('notification-jobs', 'status', { caller, jobId: params.id });
      },
    }),
  ];
}
