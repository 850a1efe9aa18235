// A route is data: method, path, who may call it, input schemas, responses and a handler.
// mountRoutes (mount-routes.ts) registers each one in the router and in the OpenAPI registry, so the two cannot drift.
import type { z } from 'zod';
import type { Caller, RouteAuth } from './auth.js';
import type { HttpContext } from './http-state.js';
import { parseRouteInput, type RawInput, type RouteInput, type RouteRequest } from './route-input.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A JSON body schema, a bare description (no body), or a body of another media type. */
export type ResponseSpec = z.ZodType | string | { readonly description: string; readonly contentType: string; readonly schema?: z.ZodType };

/** The caller a handler receives: always present on private routes, never on public ones. */
export type CallerOf<A extends RouteAuth> = A extends 'public' ? undefined : Caller;

export interface RouteSpec<R extends RouteRequest, A extends RouteAuth> {
  readonly method: HttpMethod;
  /** Koa style, e.g. `/admin/supervisors/:name/restart`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: A;
  readonly request?: R;
  /** A multipart/form-data body the handler reads itself (streamed); its schema is for OpenAPI only. */
  readonly multipart?: z.ZodType;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  handler(ctx: HttpContext, input: RouteInput<R>, caller: CallerOf<A>): void | Promise<void>;
}

export interface RouteDefinition {
  /** `METHOD /path`, as written in the public-route list. */
  readonly key: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: RouteAuth;
  readonly request?: RouteRequest;
  readonly multipart?: z.ZodType;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Validates the raw input against the route's schemas, then runs the handler. */
  run(ctx: HttpContext, raw: RawInput, caller: Caller | undefined): Promise<void>;
}

export function routeKey(method: string, path: string): string {
  return `${method} ${path}`;
}

export function defineRoute<const R extends RouteRequest = Record<never, never>, const A extends RouteAuth = RouteAuth>(spec: RouteSpec<R, A>): RouteDefinition {
  const { handler, ...meta } = spec;
  return {
    ...meta,
    key: routeKey(spec.method, spec.path),
    async run(ctx, raw, caller) {
      const input = parseRouteInput(spec.request, raw);
      // authenticate() returns a caller exactly when auth is not 'public', which is what CallerOf<A> says.
      await handler(ctx, input, caller as CallerOf<A>);
    },
  };
}
