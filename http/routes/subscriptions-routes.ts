// The public lookup of a subscription request ("avis"): its steps, shown only to whoever gives its phone on file.
import type { Gateway } from '../../src/contracts/gateway.js';
import { subscriptionParams, subscriptionQuery, subscriptionRequestSchema } from '../../src/contracts/customer-data-messages.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function subscriptionRoutes(deps: { gateway: Gateway; sourceReadDeadlineMs?: number }): RouteDefinition[] {
  // It reads BI_ODS: it waits as the source reads do (http/deadlines.ts), so a slow source answers stale or its own 504.
  const options = { deadlineMs: deps.sourceReadDeadlineMs };
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/subscriptions/:noticeNumber',
      summary: "A subscription request's steps in order, each with its description and when it was done (null until then).",
      description:
        'Answered only when `phone` is the one on file for the request (compared in E.164). An unknown number and a wrong phone get the same 404 `SUBSCRIPTION_NOT_FOUND`. Limited per client address and per notice number (429 with Retry-After). While the source is unreachable an older answer may be served, marked `stale` with its `ageMs`.',
      auth: 'public',
      request: { params: subscriptionParams, query: subscriptionQuery },
      responses: { 200: subscriptionRequestSchema },
      async handler(ctx, { params, query }) {
        const answer = await deps.gateway.ask('customer-data', 'subscription', { input: { noticeNumber: params.noticeNumber, phone: query.phone, ip: ctx.ip } }, options);
        // Kept by the client only to revalidate (ETag): the steps move, and the answer belongs to one phone.
        ctx.set('Cache-Control', 'private, no-cache');
        ctx.body = answer;
      },
    }),
  ];
}
