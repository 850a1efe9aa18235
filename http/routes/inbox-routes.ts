// The signed-in customer's inbox: list (cursor pages, unread filter), read, read-all, delete.
import type { InboxMessage } from '../../src/contracts/inbox-messages.js';
import { inboxItemParams, inboxListQuery, inboxPageSchema, markAllReadSchema } from '../../src/contracts/inbox-messages.js';
import type { PayloadOf, ReplyOf } from '../../src/contracts/reply.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The part of the Gateway these routes use: the Gateway satisfies it, and a test can give the inbox alone. */
export interface InboxGateway {
  ask<T extends InboxMessage['type']>(
    actor: 'inbox',
    type: T,
    payload: PayloadOf<Extract<InboxMessage, { type: T }>>,
    options?: { deadlineMs?: number },
  ): Promise<ReplyOf<Extract<InboxMessage, { type: T }>>>;
}

export function inboxRoutes(deps: { gateway: InboxGateway }): RouteDefinition[] {
  const { gateway } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/me/notifications',
      summary: "The signed-in customer's notifications, newest first, in cursor pages.",
      description: 'Targeted notifications and the broadcasts of their agency / everyone. `unread=true` lists only unread ones; `nextCursor` is null on the last page.',
      auth: ['customer'],
      request: { query: inboxListQuery },
      responses: { 200: inboxPageSchema },
      async handler(ctx, { query }, caller) {
        ctx.body = await gateway.ask('inbox', 'list', { caller, options: { cursor: query.cursor, unread: query.unread, limit: query.limit } });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/me/notifications/read-all',
      summary: 'Mark every notification of the signed-in customer read.',
      auth: ['customer'],
      responses: { 200: markAllReadSchema },
      async handler(ctx, _input, caller) {
        ctx.body = await gateway.ask('inbox', 'mark-all-read', { caller });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/me/notifications/:id/read',
      summary: 'Mark one notification read.',
      description: 'A notification that is not the caller\'s (or was deleted) is a 404.',
      auth: ['customer'],
      request: { params: inboxItemParams },
      responses: { 204: 'Marked read.' },
      async handler(ctx, { params }, caller) {
        await gateway.ask('inbox', 'mark-read', { caller, id: params.id });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/me/notifications/:id',
      summary: 'Delete one notification from the inbox.',
      description: 'A notification that is not the caller\'s (or was already deleted) is a 404.',
      auth: ['customer'],
      request: { params: inboxItemParams },
      responses: { 204: 'Deleted.' },
      async handler(ctx, { params }, caller) {
        await gateway.ask('inbox', 'delete', { caller, id: params.id });
        ctx.status = 204;
      },
    }),
  ];
}
