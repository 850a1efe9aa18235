// Times each request into samaconso_http_request_duration_seconds, labelled by the router's pattern for the
// route (never the raw path: ids would make a series per caller), or "unmatched" when no route took it.
import type { Histogram } from 'prom-client';
import type { HttpMiddleware } from '../http-state.js';

/** The histogram samaconso_http_request_duration_seconds (src/instruments.ts owns it). */
export type RequestDurations = Histogram<'method' | 'route' | 'status'>;

/** The route pattern the router matched (@koa/router sets `_matchedRoute`), or "unmatched". */
export function routeLabel(ctx: { _matchedRoute?: unknown }): string {
  return typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
}

export function requestDuration(histogram: RequestDurations): HttpMiddleware {
  return async (ctx, next) => {
    const end = histogram.startTimer();
    try {
      await next();
    } finally {
      // problemResponse (inside) has already turned errors into a status by now.
      end({ method: ctx.method, route: routeLabel(ctx as { _matchedRoute?: unknown }), status: String(ctx.status) });
    }
  };
}
