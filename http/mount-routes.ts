// Mounts routes: each in the router and in the OpenAPI registry at once, so the two cannot drift.
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from '@koa/router';
import { authenticate, type TokenVerifier } from './auth.js';
import type { HttpState } from './http-state.js';
import type { JsonBodyReader } from './json-body.js';
import { toOpenApiRoute } from './openapi.js';
import type { RouteDefinition } from './route.js';

export interface RouteMount {
  readonly router: Router<HttpState>;
  readonly registry: OpenAPIRegistry;
  readonly verifier: TokenVerifier;
  readonly readJsonBody: JsonBodyReader;
}

/** Mounts every route: authenticate → read the JSON body → validate → handler. Throws on a duplicate route. */
export function mountRoutes(routes: readonly RouteDefinition[], mount: RouteMount): void {
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.key)) throw new Error(`route ${route.key} is declared twice`);
    seen.add(route.key);
    mount.registry.registerPath(toOpenApiRoute(route));
    mount.router.register(route.path, [route.method], async (ctx) => {
      // Authentication comes first: an anonymous caller learns nothing about a private route's input.
      const caller = await authenticate(ctx.get('Authorization') || undefined, route.auth, mount.verifier);
      const body = route.request?.body ? await mount.readJsonBody(ctx) : undefined;
      await route.run(ctx, { params: ctx.params, query: ctx.query, body }, caller);
    });
  }
}
