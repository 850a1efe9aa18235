// Runs when no route matched: 405 with Allow when the path exists for other methods, else 404.
import type { Router } from '@koa/router';
import { MethodNotAllowedError, NotFoundError } from '../http-errors.js';
import type { HttpMiddleware, HttpState } from '../http-state.js';

export function routeNotFound(router: Router<HttpState>): HttpMiddleware {
  return (ctx) => {
    const allowed = [...new Set(router.match(ctx.path, ctx.method).path.flatMap((layer) => layer.methods))];
    if (allowed.length === 0) throw new NotFoundError(`No route matches ${ctx.method} ${ctx.path}.`);
    if (ctx.method === 'OPTIONS') {
      ctx.set('Allow', [...allowed, 'OPTIONS'].join(', '));
      ctx.status = 204;
      return;
    }
    throw new MethodNotAllowedError(ctx.method, allowed);
  };
}
