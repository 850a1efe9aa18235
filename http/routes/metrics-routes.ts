// Prometheus scrape endpoint, served on the ops surface only (never through the public load balancer).
import { NotFoundError } from '../http-errors.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export type MetricsSource = () => Promise<{ contentType: string; body: string }>;

export function metricsRoute(deps: { metrics?: MetricsSource }): RouteDefinition {
  return defineRoute({
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics of this process.',
    auth: 'public',
    responses: { 200: { description: 'Prometheus text exposition format.', contentType: 'text/plain' } },
    async handler(ctx) {
      if (!deps.metrics) throw new NotFoundError('This process does not collect metrics.');
      const { contentType, body } = await deps.metrics();
      ctx.set('Cache-Control', 'no-store');
      ctx.type = contentType;
      ctx.body = body;
    },
  });
}
