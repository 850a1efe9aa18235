// The signed-in customer's own profile and device.
import { z } from 'zod';
import { profilePatchBody, profileSchema, pushTokenBody } from '../../src/contracts/accounts.js';
import type { Gateway } from '../../src/contracts/gateway.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function meRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  const { gateway } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/me',
      summary: 'The profile of the signed-in user.',
      auth: ['customer', 'agent', 'admin'],
      responses: { 200: profileSchema },
      async handler(ctx, _input, caller) {
        ctx.body = await gateway.ask('accounts', 'profile', { caller });
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/v1/me',
      summary: 'Change first name, last name or email.',
      auth: ['customer'],
      request: { body: profilePatchBody },
      responses: { 200: profileSchema },
      async handler(ctx, { body }, caller) {
        ctx.body = await gateway.ask('accounts', 'update-profile', { caller, patch: body });
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/v1/me/push-token',
      summary: "Set this device's FCM token (null removes it); a token held by another session moves here.",
      auth: ['customer'],
      request: { body: pushTokenBody },
      responses: { 200: z.object({ pushToken: z.string().nullable() }) },
      async handler(ctx, { body }, caller) {
        ctx.body = await gateway.ask('accounts', 'set-push-token', { caller, pushToken: body.pushToken });
      },
    }),
  ];
}
