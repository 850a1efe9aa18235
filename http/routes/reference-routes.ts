// Reference data the apps read (agencies, tariff thresholds, notification and request types), any signed-in role;
// the admins' edits are in reference-edit-routes.ts.
import { z } from 'zod';
import type { Gateway } from '../../src/contracts/gateway.js';
import {
  agenciesQuery,
  agencySchema,
  requestTypeSchema,
  requestTypesQuery,
  tariffThresholdSchema,
  tariffThresholdsQuery,
} from '../../src/contracts/reference-messages.js';
import { notificationTypeSchema } from '../../src/domain/notification-type.js';
import type { HttpContext } from '../http-state.js';
import { defineRoute, type RouteDefinition } from '../route.js';
import { referenceEditRoutes } from './reference-edit-routes.js';

const READERS = ['customer', 'agent', 'admin'] as const;

/**
 * Reference data changes rarely: a client may keep an answer a minute (the server's cache keeps it as long), then
 * revalidates with its ETag (304, no body). An admin listing withdrawn rows is editing: always revalidate.
 */
function cacheFor(ctx: HttpContext, editing = false): void {
  ctx.set('Cache-Control', editing ? 'private, no-cache' : 'private, max-age=60');
}

export function referenceRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  const { gateway } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/notification-types',
      summary: 'Every notification type with the queue it goes to, its TTL and collapse key.',
      auth: READERS,
      responses: { 200: z.array(notificationTypeSchema) },
      async handler(ctx) {
        ctx.body = await gateway.ask('reference', 'notification-types', {});
        cacheFor(ctx);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/agencies',
      summary: "The utility's agencies (active ones; `all=true`, admins only, adds the withdrawn).",
      description: '`all=true` by a customer or an agent is 403 `FORBIDDEN`.',
      auth: READERS,
      request: { query: agenciesQuery },
      responses: { 200: z.array(agencySchema) },
      async handler(ctx, { query }, caller) {
        ctx.body = await gateway.ask('reference', 'agencies', { caller, all: query.all });
        cacheFor(ctx, query.all);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/tariff-thresholds',
      summary: "The consumption bands of every tariff (or of `tariff`), as the app colours a customer's consumption.",
      auth: READERS,
      request: { query: tariffThresholdsQuery },
      responses: { 200: z.array(tariffThresholdSchema) },
      async handler(ctx, { query }, caller) {
        ctx.body = await gateway.ask('reference', 'tariff-thresholds', { caller, tariff: query.tariff });
        cacheFor(ctx);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/request-types',
      summary: 'What a customer may file (active types; `all=true`, admins only, adds the withdrawn).',
      description: '`all=true` by a customer or an agent is 403 `FORBIDDEN`.',
      auth: READERS,
      request: { query: requestTypesQuery },
      responses: { 200: z.array(requestTypeSchema) },
      async handler(ctx, { query }, caller) {
        ctx.body = await gateway.ask('reference', 'request-types', { caller, all: query.all });
        cacheFor(ctx, query.all);
      },
    }),
    ...referenceEditRoutes(deps),
  ];
}
