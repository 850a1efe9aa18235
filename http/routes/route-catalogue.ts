// Every route of the HTTP layer, by surface: 'api' (clients and on-call) and 'ops' (a worker's small ops port).
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

export const SURFACES = ['api', 'ops'] as const;
export type Surface = (typeof SURFACES)[number];

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
  return {
    api: [...healthRoutes(deps, false), openApiRoute(deps), ...docsRoutes(), ...onCallPageRoutes(), ...onCallEventsRoutes(deps), ...supervisorRoutes(deps), ...queuePauseRoutes(deps), ...operationsRoutes(deps), ...referenceRoutes(deps), ...dashboardRoutes(deps), ...authRoutes(deps), ...meRoutes(deps), ...notificationRoutes(deps), ...inboxRoutes(deps), ...subscriptionRoutes(deps), ...meterRoutes(deps), ...meterDataRoutes(deps), ...requestRoutes(deps)],
    ops: [...healthRoutes(deps, true), metricsRoute(deps)],
  };
}

/** Every distinct route across surfaces: what the public-route check and the route tests walk. */
export function allRoutes(deps: RouteDeps): RouteDefinition[] {
  const { api, ops } = routesBySurface(deps);
  return [...new Map([...api, ...ops].map((r) => [r.key, r])).values()];
}
