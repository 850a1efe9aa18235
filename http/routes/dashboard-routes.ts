// The back office's dashboard (GET /v1/dashboard): an agent's agency, an admin's one agency or all.
import type { Gateway } from '../../src/contracts/gateway.js';
import { dashboardQuery, dashboardSchema } from '../../src/contracts/dashboard-messages.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function dashboardRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/dashboard',
      summary: 'Counts for the back office: pending meter links, requests by status and age, 30 days of notifications, active customers.',
      description:
        "An agent sees their agency's (naming another with `agency` is 403 `FORBIDDEN`); an admin all agencies', or one with `agency` (a code not in the agencies list is 404 `AGENCY_NOT_FOUND`; withdrawn agencies answer). " +
        'Read from PostgreSQL and cached briefly (`generatedAt` says when); customers get 403.',
      auth: ['agent', 'admin'],
      request: { query: dashboardQuery },
      responses: { 200: dashboardSchema },
      async handler(ctx, { query }, caller) {
        ctx.body = await deps.gateway.ask('dashboard', 'read', { caller, agency: query.agency });
        ctx.set('Cache-Control', 'private, no-cache');
      },
    }),
  ];
}
