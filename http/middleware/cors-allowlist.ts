// CORS closed by default: only the exact origins listed in config.http.corsOrigins get CORS headers.
import cors from '@koa/cors';
import type { Middleware } from 'koa';

export function corsAllowlist(origins: readonly string[]): Middleware {
  const allowed = new Set(origins);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return allowed.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'ETag', 'Retry-After', 'WWW-Authenticate', 'Allow'],
    maxAge: 600,
  });
}
