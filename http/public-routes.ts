// The one committed list of routes anyone may call without a token. Every other route needs a bearer JWT.
// createHttpApp refuses to start when this list and the routes declared `auth: 'public'` differ.
import type { RouteDefinition } from './route.js';

export const PUBLIC_ROUTES: readonly string[] = [
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/assets/:file',
  'GET /admin',
  'GET /admin/assets/:file',
  'POST /v1/auth/register',
  'POST /v1/auth/verify-phone',
  'POST /v1/auth/login',
  'POST /v1/auth/agent-login',
  'POST /v1/auth/refresh',
  'POST /v1/auth/pin-reset',
  'POST /v1/auth/pin-reset/confirm',
  'GET /v1/subscriptions/:noticeNumber',
];

/** Throws naming every route declared public but not listed, and every listed route not declared public. */
export function assertPublicRoutes(routes: readonly Pick<RouteDefinition, 'key' | 'auth'>[], list: readonly string[] = PUBLIC_ROUTES): void {
  const declared = new Set(routes.filter((r) => r.auth === 'public').map((r) => r.key));
  const listed = new Set(list);
  const problems = [
    ...[...declared].filter((k) => !listed.has(k)).map((k) => `${k} is declared public but not in http/public-routes.ts`),
    ...[...listed].filter((k) => !declared.has(k)).map((k) => `${k} is listed in http/public-routes.ts but not declared public`),
  ];
  if (problems.length) throw new Error(`public routes do not match:\n${problems.join('\n')}`);
}
