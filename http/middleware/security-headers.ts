// Conservative browser headers on every response; a route serving HTML (the docs page) sets its own CSP.
import type { HttpMiddleware } from '../http-state.js';

export function securityHeaders(): HttpMiddleware {
  return async (ctx, next) => {
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
    });
    await next();
  };
}
