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

const REQUIRED = 'is required';

/** True when the body schema takes an empty object: the body may then be left out (OpenAPI `required: false`). */
export function bodyIsOptional(schema: z.ZodType): boolean {
  return schema.safeParse({}).success;
}

export function parseRouteInput<R extends RouteRequest>(request: R | undefined, raw: RawInput): RouteInput<R> {
  const fields: ProblemField[] = [];
  const out: Record<string, unknown> = { params: {}, query: {}, body: undefined };
  for (const part of PARTS) {
    const schema = request?.[part];
    if (!schema) continue;
    // No body reads as an empty object: a route whose fields are all optional takes none, and each required
    // field is then named as missing rather than the body as a whole.
    const value = part === 'body' && raw.body === undefined ? {} : raw[part];
    const result = schema.safeParse(value);
    if (result.success) out[part] = result.data;
    else
      for (const issue of result.error.issues) {
        const missing = issue.code === 'invalid_type' && valueAt(value, issue.path) === undefined;
        fields.push({ path: [part, ...issue.path.map(String)].join('.'), message: missing ? REQUIRED : issue.message });
      }
  }
  if (fields.length) throw new ValidationError(fields, detailOf(fields));
  // Each part was parsed by the schema RouteInput<R> is computed from.
  return out as unknown as RouteInput<R>;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

/** "body.reason is required." / "body.phone and body.pin are required."; the generic text when nothing is missing. */
function detailOf(fields: readonly ProblemField[]): string | undefined {
  const missing = fields.filter((f) => f.message === REQUIRED).map((f) => f.path);
  if (!missing.length) return undefined;
  const names = missing.length === 1 ? missing[0]! : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)!}`;
  return `${names} ${missing.length === 1 ? 'is' : 'are'} required.`;
}
