// Every route of the HTTP layer, by surface: 'api' (clients and on-call on one listener, the default), 'public' and
// 'admin' (the same routes split over two listeners when ADMIN_PORT is set: the on-call page and routes, with the
// staff sign-in they need, leave the public listener) and 'ops' (health with detail, and metrics).
import type { Gateway } from '../../src/contracts/gateway.js';
import type { OpenApiDocument } from '../openapi.js';
import type { RouteDefinition } from '../route.js';
import { authRoutes } from './auth-routes.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { docsRoutes } from './docs-routes.js';
import { healthRoutes } from './health-routes.js';
import { meRoutes } from './me-routes.js';
import { meterDataRoutes } from './meter-data-routes.js';
import { inboxRoutes } from './inbox-routes.js';
import { meterRoutes } from './meters-routes.js';
import { metricsRoute, type MetricsSource } from './metrics-routes.js';
import { notificationRoutes } from './notifications-routes.js';
import { operationsRoutes } from './operations-routes.js';
import { openApiRoute } from './openapi-json-routes.js';
import { referenceRoutes } from './reference-routes.js';
import { requestRoutes, type RequestRoutesConfig } from './requests-routes.js';
import { subscriptionRoutes } from './subscriptions-routes.js';
import { supervisorRoutes } from './supervisors-routes.js';
import { queuePauseRoutes } from './queue-pauses-routes.js';
import { onCallEventsRoutes } from './on-call-events-routes.js';
import { onCallPageRoutes } from './on-call-page-routes.js';

export const SURFACES = ['api', 'public', 'admin', 'ops'] as const;
export type Surface = (typeof SURFACES)[number];

/** The surfaces that serve clients: the live inbox's WebSocket is attached to their listener. */
export const CLIENT_SURFACES: readonly Surface[] = ['api', 'public'];

/** What the on-call page signs in, refreshes and signs out with: the admin listener serves these too. */
const STAFF_SIGN_IN_PATHS: ReadonlySet<string> = new Set(['/v1/auth/agent-login', '/v1/auth/refresh', '/v1/auth/logout']);

export interface RouteDeps {
  readonly gateway: Gateway;
  readonly metrics?: MetricsSource;
  readonly openApiDocument: () => OpenApiDocument;
  /** The deadline of routes that read a source (http/deadlines.ts sourceReadDeadlineMs); without it they wait the default. */
  readonly sourceReadDeadlineMs?: number;
  /** The requests' attachment limit and the deadline an upload's grows from; without it, the defaults. */
  readonly requests?: RequestRoutesConfig;
  /** How often GET /admin/events pushes a snapshot; without it, every 3 s. */
  readonly adminEventsIntervalMs?: number;
  /** Aborted when the process starts stopping (ends the event streams). */
  readonly shutdown?: AbortSignal;
}

export function routesBySurface(deps: RouteDeps): Record<Surface, readonly RouteDefinition[]> {
  const health = healthRoutes(deps, false);
  const docs = [openApiRoute(deps), ...docsRoutes()];
  const onCall = [...onCallPageRoutes(), ...onCallEventsRoutes(deps), ...supervisorRoutes(deps), ...queuePauseRoutes(deps), ...operationsRoutes(deps)];
  const auth = authRoutes(deps);
  const product = [...referenceRoutes(deps), ...dashboardRoutes(deps), ...auth, ...meRoutes(deps), ...notificationRoutes(deps), ...inboxRoutes(deps), ...subscriptionRoutes(deps), ...meterRoutes(deps), ...meterDataRoutes(deps), ...requestRoutes(deps)];
  return {
    api: [...health, ...docs, ...onCall, ...product],
    public: [...health, ...docs, ...product],
    admin: [...health, ...onCall, ...auth.filter((r) => STAFF_SIGN_IN_PATHS.has(r.path))],
    ops: [...healthRoutes(deps, true), metricsRoute(deps)],
  };
}

/** Every distinct route across surfaces: what the public-route check and the route tests walk. */
export function allRoutes(deps: RouteDeps): RouteDefinition[] {
  const surfaces = routesBySurface(deps);
  return [...new Map(SURFACES.flatMap((s) => surfaces[s]).map((r) => [r.key, r])).values()];
}
