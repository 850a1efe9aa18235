// Validates a request's params, query and body against a route's zod schemas, naming every bad field.
import type { z } from 'zod';
import { ValidationError, type ProblemField } from '../src/errors/app-error.js';

/** The zod schemas a route may declare for its input (params and query are objects for OpenAPI). */
export interface RouteRequest {
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
}

type Parsed<S, Fallback> = S extends z.ZodType ? z.output<S> : Fallback;

/** The validated input a handler receives, typed from the route's schemas. */
export interface RouteInput<R extends RouteRequest> {
  readonly params: Parsed<R['params'], Record<string, never>>;
  readonly query: Parsed<R['query'], Record<string, never>>;
  readonly body: Parsed<R['body'], undefined>;
}

export interface RawInput {
  readonly params: Record<string, string>;
  readonly query: Record<string, unknown>;
  readonly body: unknown;
}

const PARTS = ['params', 'query', 'body'] as const;

export function parseRouteInput<R extends RouteRequest>(request: R | undefined, raw: RawInput): RouteInput<R> {
  const fields: ProblemField[] = [];
  const out: Record<string, unknown> = { params: {}, query: {}, body: undefined };
  for (const part of PARTS) {
    const schema = request?.[part];
    if (!schema) continue;
    const result = schema.safeParse(raw[part]);
    if (result.success) out[part] = result.data;
    else for (const issue of result.error.issues) fields.push({ path: [part, ...issue.path.map(String)].join('.'), message: issue.message });
  }
  if (fields.length) throw new ValidationError(fields);
  // Each part was parsed by the schema RouteInput<R> is computed from.
  return out as unknown as RouteInput<R>;
}
