// Serves the OpenAPI 3.1 document generated from the mounted routes.
import type { OpenApiDocument } from '../openapi.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function openApiRoute(deps: { openApiDocument: () => OpenApiDocument }): RouteDefinition {
  return defineRoute({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document.',
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document.', contentType: 'application/json' } },
    handler(ctx) {
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = deps.openApiDocument();
    },
  });
}
