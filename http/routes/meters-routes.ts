// A customer's meter links (GET/POST /v1/me/meters, end one, choose the default) and the pending access requests
// their owners, the meter's agency's agents and admins decide (DOMAIN.md rule 4).
import type { Gateway } from '../../src/contracts/gateway.js';
import {
  linkMeterBody,
  meterLinkListSchema,
  meterLinkParams,
  meterLinkSchema,
  meterRequestListSchema,
  meterRequestsQuery,
  METER_DECISIONS,
} from '../../src/contracts/meters-messages.js';
import { defineRoute, type RouteDefinition } from '../route.js';

const DECIDERS = ['customer', 'agent', 'admin'] as const;

export function meterRoutes(deps: { gateway: Gateway; sourceReadDeadlineMs?: number }): RouteDefinition[] {
  const { gateway } = deps;
  // Linking reads SIC before it writes: it waits as the source reads do (http/deadlines.ts), else the default.
  const linkOptions = { deadlineMs: deps.sourceReadDeadlineMs };
  const decisionRoutes = METER_DECISIONS.map((decision) =>
    defineRoute({
      method: 'POST',
      path: `/v1/meter-links/:linkId/${decision}`,
      summary: decision === 'approve' ? 'Approve a pending meter access request.' : 'Reject a pending meter access request.',
      description:
        `For an active owner of the meter, an agent of the meter's agency, or an admin; the requester is notified (${decision === 'approve' ? '`link_approved`' : '`link_rejected`'}). ` +
        'Anyone else, and an unknown id, gets 404 `METER_LINK_NOT_FOUND`; a link already decided or ended is 409 `METER_LINK_NOT_PENDING`.',
      auth: DECIDERS,
      request: { params: meterLinkParams },
      responses: { 200: meterLinkSchema },
      async handler(ctx, { params }, caller) {
        ctx.body = await gateway.ask('meters', 'decide', { caller, linkId: params.linkId, decision });
      },
    }),
  );
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/me/meters',
      summary: "The signed-in customer's meter links, pending and active: the default first, then the newest.",
      auth: ['customer'],
      responses: { 200: meterLinkListSchema },
      async handler(ctx, _input, caller) {
        ctx.body = await gateway.ask('meters', 'list', { caller });
        ctx.set('Cache-Control', 'private, no-cache');
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/me/meters',
      summary: 'Link a meter: active at once when the phone on file is yours, else pending until its owner or an agent decides.',
      description:
        "Looked up in SIC (prepaid: by meter number; postpaid: by contract account): unknown is 404 `METER_NOT_FOUND`, already linked (or requested) 409 `METER_ALREADY_LINKED`. " +
        "A pending link shows nothing of the utility's data but the meter, its kind and agency; the meter's owners are notified. " +
        'Limited per customer and per client address, misses included (429 with Retry-After). The first active meter becomes the default.',
      auth: ['customer'],
      request: { body: linkMeterBody },
      responses: { 201: meterLinkSchema },
      async handler(ctx, { body }, caller) {
        ctx.body = await gateway.ask('meters', 'link', { caller, input: body, ip: ctx.ip }, linkOptions);
        ctx.status = 201;
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/me/meters/:linkId',
      summary: 'End one of your meter links (pending or active).',
      description: 'When it was the default, your newest active link becomes the default. Not yours, or not live: 404 `METER_LINK_NOT_FOUND`.',
      auth: ['customer'],
      request: { params: meterLinkParams },
      responses: { 204: 'Ended.' },
      async handler(ctx, { params }, caller) {
        await gateway.ask('meters', 'unlink', { caller, linkId: params.linkId });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/v1/me/meters/:linkId/default',
      summary: 'Make one of your active meter links the default.',
      description: 'Not yours, or not active: 404 `METER_LINK_NOT_FOUND`.',
      auth: ['customer'],
      request: { params: meterLinkParams },
      responses: { 200: meterLinkSchema },
      async handler(ctx, { params }, caller) {
        ctx.body = await gateway.ask('meters', 'set-default', { caller, linkId: params.linkId });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/me/meter-requests',
      summary: 'Pending meter access requests you may decide, oldest first.',
      description: "A customer: the requests for meters they own; an agent: their agency's; an admin: all. At most `limit` (100).",
      auth: DECIDERS,
      request: { query: meterRequestsQuery },
      responses: { 200: meterRequestListSchema },
      async handler(ctx, { query }, caller) {
        ctx.body = await gateway.ask('meters', 'requests', { caller, limit: query.limit });
        ctx.set('Cache-Control', 'private, no-cache');
      },
    }),
    ...decisionRoutes,
  ];
}
