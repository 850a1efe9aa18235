// The OpenAPI 3.1 document, generated from the same route definitions and zod schemas the router uses.
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { STATUS_CODES } from 'node:http';
import type { RouteDefinition } from './route.js';
import { bodyIsOptional } from './route-input.js';
import { ProblemSchema } from './schemas/problem.js';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const BEARER = 'bearerAuth';
const problemResponse = (description: string): ResponseConfig => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

export function createOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', BEARER, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  return registry;
}

/** `/admin/supervisors/:name/restart` → `/admin/supervisors/{name}/restart`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function toOpenApiRoute(route: RouteDefinition): RouteConfig {
  const responses: Record<string, ResponseConfig> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const description = STATUS_CODES[Number(status)] ?? 'Response';
    if (typeof spec === 'string') responses[status] = { description: spec };
    else if ('contentType' in spec && typeof spec.contentType === 'string') {
      responses[status] = { description: spec.description, content: { [spec.contentType]: { schema: spec.schema ?? { type: 'string' } } } };
    } else responses[status] = { description, content: { 'application/json': { schema: spec } } };
  }
  if (route.request) {
    responses['400'] ??= problemResponse(route.request.body ? 'The input is not valid (VALIDATION_FAILED, MALFORMED_JSON).' : 'The input is not valid (VALIDATION_FAILED).');
  }
  const isPrivate = route.auth !== 'public';
  if (isPrivate) {
    responses['401'] ??= problemResponse('No valid bearer token (UNAUTHENTICATED).');
    responses['403'] ??= problemResponse('The role of the caller may not use this route (FORBIDDEN).');
  }
  responses.default = problemResponse('Any other problem, e.g. 503 with Retry-After, 504 QUERY_TIMEOUT, 500 INTERNAL.');

  const roles = isPrivate ? `Roles: ${(route.auth as readonly string[]).join(', ')}.` : 'Public.';
  return {
    method: route.method.toLowerCase() as RouteConfig['method'],
    path: openApiPath(route.path),
    summary: route.summary,
    description: route.description ? `${route.description}\n\n${roles}` : roles,
    tags: [route.path.split('/')[1] ?? 'root'],
    ...(isPrivate ? { security: [{ [BEARER]: [] }] } : {}),
    request: {
      ...(route.request?.params ? { params: route.request.params } : {}),
      ...(route.request?.query ? { query: route.request.query } : {}),
      ...(route.multipart ? { body: { required: true, content: { 'multipart/form-data': { schema: route.multipart } } } } : {}),
      ...(route.request?.body ? { body: { required: !bodyIsOptional(route.request.body), content: { 'application/json': { schema: route.request.body } } } } : {}),
    },
    responses,
  };
}

/** The live inbox WebSocket: served on the upgrade event, not by the router, but part of the contract. */
export function registerWebSocketPath(registry: OpenAPIRegistry, path: string, summary: string, description: string, roles: readonly string[]): void {
  registry.registerPath({
    method: 'get',
    path,
    summary,
    description: `${description}\n\nRoles: ${roles.join(', ')}.`,
    tags: [path.split('/')[1] ?? 'root'],
    security: [{ [BEARER]: [] }],
    responses: {
      '101': { description: 'Switching Protocols: the WebSocket is open.' },
      '401': problemResponse('No valid bearer token, or the account is gone (UNAUTHENTICATED); answered before any upgrade.'),
      '403': problemResponse('The role may not use it, or the Origin is not allowed (FORBIDDEN).'),
      '426': problemResponse('A plain HTTP request: open it as a WebSocket (UPGRADE_REQUIRED).'),
      default: problemResponse('Any other problem, e.g. 503 when the live hub is restarting.'),
    },
  });
}

export function generateOpenApiDocument(registry: OpenAPIRegistry): OpenApiDocument {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'SamaConso API',
      version: '1.0.0',
      description: 'Clients use /v1, on-call uses /admin. Errors are RFC 9457 problems with a stable `code`.',
    },
  });
}
