// The signed-in customer's own profile and device.
import { z } from 'zod';
import { changePinBody, deleteAccountBody, profilePatchBody, profileSchema, pushTokenBody } from '../../src/contracts/accounts-messages.js';
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
      method: 'DELETE',
      path: '/v1/me',
      summary: 'Delete the account (PIN required): personal data, sessions and push tokens go; the audit trail stays.',
      auth: ['customer'],
      request: { body: deleteAccountBody },
      responses: { 204: 'Deleted.' },
      async handler(ctx, { body }, caller) {
        await gateway.ask('accounts', 'delete-account', { caller, input: body });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/v1/me/pin',
      summary: 'Change the PIN (current PIN required); every other session ends.',
      auth: ['customer'],
      request: { body: changePinBody },
      responses: { 200: z.object({ changed: z.literal(true) }) },
      async handler(ctx, { body }, caller) {
        ctx.body = await gateway.ask('accounts', 'change-pin', { caller, input: body });
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
