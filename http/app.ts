// The HTTP bridge: Koa middleware around one router whose routes each send one query into the actor system.
import { Router } from '@koa/router';
import Koa from 'koa';
import type { Config } from '../src/config.js';
import type { Gateway } from '../src/contracts/gateway.js';
import type { Logger } from '../src/logger.js';
import type { TokenVerifier } from './auth.js';
import { sourceReadDeadlineMs, withDefaultDeadline } from './deadlines.js';
import type { HttpState } from './http-state.js';
import { createJsonBodyReader } from './json-body.js';
import { accessLog } from './middleware/access-log.js';
import { compression } from './middleware/compression.js';
import { corsAllowlist } from './middleware/cors-allowlist.js';
import { etag } from './middleware/etag.js';
import { problemResponse } from './middleware/problem-response.js';
import { requestDuration, type RequestDurations } from './middleware/request-duration.js';
import { requestId } from './middleware/request-id.js';
import { routeNotFound } from './middleware/route-not-found.js';
import { securityHeaders } from './middleware/security-headers.js';
import { createOpenApiRegistry, generateOpenApiDocument, registerWebSocketPath, type OpenApiDocument } from './openapi.js';
import { UpgradeRequiredError } from './http-errors.js';
import { LIVE_PATH, LIVE_ROLES } from './live.js';
import { assertPublicRoutes } from './public-routes.js';
import { mountRoutes } from './mount-routes.js';
import type { RouteDefinition } from './route.js';
import type { MetricsSource } from './routes/metrics-routes.js';
import { CLIENT_SURFACES, routesBySurface, type Surface } from './routes/route-catalogue.js';

export interface HttpDeps {
  readonly config: Config;
  readonly log: Logger;
  /** The only way into the actor system. */
  readonly gateway: Gateway;
  readonly auth: TokenVerifier;
  /** 'api': v1, admin, health, OpenAPI and docs; 'public' and 'admin': those split in two (ADMIN_PORT); 'ops': health and metrics. */
  readonly surface: Surface;
  readonly metrics?: MetricsSource;
  /** Where request durations are recorded (samaconso_http_request_duration_seconds); none in some tests. */
  readonly requestDurations?: RequestDurations;
  /** Routes added on top of the surface's own (tests); they obey the public-route list like any other. */
  readonly extraRoutes?: readonly RouteDefinition[];
  /** Aborted when the process starts stopping: long-lived responses (the dashboard's event stream) end then. */
  readonly shutdown?: AbortSignal;
}

export function createHttpApp(deps: HttpDeps): Koa<HttpState> {
  const { config, log } = deps;
  const registry = createOpenApiRegistry();
  let document: OpenApiDocument | undefined;
  const catalogue = routesBySurface({
    gateway: withDefaultDeadline(deps.gateway, config.queryDeadlineMs),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    sourceReadDeadlineMs: sourceReadDeadlineMs(config.sources.queryTimeoutMs, config.queryDeadlineMs),
    adminEventsIntervalMs: config.http.adminEventsIntervalMs,
    ...(deps.shutdown ? { shutdown: deps.shutdown } : {}),
    requests: { maxBytes: config.requests.attachmentMaxBytes, defaultDeadlineMs: config.queryDeadlineMs, idleTimeoutMs: config.requests.uploadIdleTimeoutMs },
    // Generated on first request: by then every route is registered.
    openApiDocument: () => (document ??= generateOpenApiDocument(registry)),
  });
  const extraRoutes = deps.extraRoutes ?? [];
  assertPublicRoutes([...catalogue.api, ...catalogue.ops, ...extraRoutes]);

  const router = new Router<HttpState>();
  mountRoutes([...catalogue[deps.surface], ...extraRoutes], {
    router,
    registry,
    verifier: deps.auth,
    readJsonBody: createJsonBodyReader(config.http.jsonBodyLimit),
  });

  // ctx.ip trusts X-Forwarded-For only through the configured number of proxy hops.
  const hops = config.http.trustedProxyHops;
  const app = new Koa<HttpState>({ proxy: hops > 0, maxIpsCount: hops });
  app.on('error', (err: unknown) => log.error({ err }, 'http server error'));
  app
    .use(requestId(log))
    .use(deps.requestDurations ? requestDuration(deps.requestDurations) : (_ctx, next) => next())
    .use(accessLog(log))
    .use(securityHeaders())
    .use(corsAllowlist(config.http.corsOrigins))
    .use(problemResponse())
    .use(compression({ threshold: 1024 }))
    .use(etag())
    .use(router.routes());
  if (CLIENT_SURFACES.includes(deps.surface)) {
    // The live inbox is served on the server's upgrade event (http/live.ts); a plain request here learns how.
    registerWebSocketPath(
      registry,
      LIVE_PATH,
      'New inbox entries, live',
      'A WebSocket. Authenticate with `Authorization: Bearer <access token>` or, from a browser, the subprotocols `bearer, <access token>` (never a query parameter). The server sends `{ "type": "notification", "entry": … }` for each new inbox entry, the entry exactly as `GET /v1/me/notifications` lists it (dedupe by `id`: an entry may come twice). Clients send nothing; at most 5 connections per user (the oldest is closed with 4001).',
      LIVE_ROLES,
    );
    app.use((ctx, next) => (ctx.path === LIVE_PATH ? Promise.reject(new UpgradeRequiredError(LIVE_PATH)) : next()));
  }
  app.use(routeNotFound(router));
  return app;
}
