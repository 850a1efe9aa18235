// Conservative browser headers on every response; a route serving HTML (the docs page) sets its own CSP.
import type { HttpMiddleware } from '../http-state.js';

const HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['Referrer-Policy', 'no-referrer'],
];

export function securityHeaders(): HttpMiddleware {
  return async (ctx, next) => {
    // Straight onto the response: constant, valid values need none of ctx.set's checks (it runs on every request).
    for (const [name, value] of HEADERS) ctx.res.setHeader(name, value);
    await next();
  };
}
