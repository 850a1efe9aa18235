// Reference data the apps read (notification types today; agencies, tariffs and request types join later).
import { z } from 'zod';
import type { Gateway } from '../../src/contracts/gateway.js';
import { notificationTypeSchema } from '../../src/domain/notification-type.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function referenceRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/notification-types',
      summary: 'Every notification type with the queue it goes to, its TTL and collapse key.',
      auth: ['customer', 'agent', 'admin'],
      responses: { 200: z.array(notificationTypeSchema) },
      async handler(ctx) {
        ctx.body = await deps.gateway.ask('reference', 'notification-types', {});
      },
    }),
  ];
}
