// One running SamaConso node: the actor runtime with the tree of its role, and its HTTP listeners.
// This is the composition root, the one module that wires http/ to supervisors/ (see docs/ARCHITECTURE.md).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../http/app.js';
import { CLIENT_SURFACES, type Surface } from '../http/routes/route-catalogue.js';
import { createTokenVerifier, refusingEndedSessions, reportingSessionChecks, TOKEN_CLOCK_TOLERANCE_S } from '../http/auth.js';
import { rememberingVerifiedTokens } from '../http/verified-tokens.js';
import type { RouteDefinition } from '../http/route.js';
import { rootSpec } from '../supervisors/tree/root.js';
import { runsDispatch } from '../supervisors/tree/dispatch.js';
import type { AdminOperation, OnOperation } from './contracts/admin-operation.js';
import { CONTROL_PLANE } from '../actors/system/control-plane-actor.js';
import type { CommandResult, ControlPlaneMessage } from './contracts/control-plane-messages.js';
import { ALL_NODES } from './cluster/control-wire.js';
import { overallOutcome } from './cluster/control-service.js';
import { recordOperation } from './cluster/operations-audit.js';
import { Runtime } from '../supervisors/runtime.js';
import type { PinHasher } from './accounts/pin-hasher.js';
import { resolveTokenKeys, type TokenKeys } from './accounts/token-keys.js';
import { SystemClock, type Clock } from './clock.js';
import { largestUploadDeadlineMs } from './config/requests.js';
import type { Config } from './config.js';
import type { Gateway } from './contracts/gateway.js';
import { waitingOutRestarts } from './waiting-out-restarts.js';
import type { Logger } from './logger.js';
import { AuthWatch } from './accounts/auth-watch.js';
import { createMetrics, type DispatchSnapshot, type QueueDepth, type StoreSnapshot } from './metrics.js';
import { Instruments } from './instruments.js';
import { CIRCUIT_STATE_VALUE } from './metric-names.js';
import type { BrokerMessage } from './adapters/broker/broker-messages.js';
import { PRIORITY_QUEUES } from './domain/priority.js';
import { consumerName, type ConsumerMessage, type ConsumerStats } from './dispatch/consumer-messages.js';
import { FCM_POOL, type FcmPoolMessage } from './dispatch/fcm-pool-messages.js';
import { attachLiveEndpoint, type LiveEndpoint } from '../http/live.js';
import { createLiveBus } from './adapters/live-bus/live-bus-factory.js';
import { SessionRevocations } from './accounts/session-revocations.js';
import { LinkCache } from './meters/index.js';
import { newNodeIdentity } from './cluster/node-registry.js';
import { resources } from './resources.js';

/** The worker's dispatch parts, for /metrics; a part that does not answer (restarting) is left out. */
async function dispatchSnapshot(runtime: Runtime): Promise<DispatchSnapshot> {
  const [pool, ...consumers] = await Promise.all([
    runtime.ask(runtime.ref<FcmPoolMessage>(FCM_POOL), 'stats', {}, 500).catch(() => undefined),
    ...PRIORITY_QUEUES.map((q) => runtime.ask(runtime.ref<ConsumerMessage>(consumerName(q)), 'stats', {}, 500).catch(() => undefined)),
  ]);
  return { pool, consumers: consumers.filter((c): c is ConsumerStats => c !== undefined) };
}

/** An on-call operation in the operations audit: who, when, why, how it ended (a pause: each node's answer). */
async function auditOperation(runtime: Runtime, op: AdminOperation): Promise<void> {
  const common = { actor: { userId: op.actor, role: op.actorRole }, action: op.action, target: op.target, reason: op.reason };
  await recordOperation(
    await resources(runtime).db(),
    op.action === 'dead-letters.replay'
      ? { ...common, outcome: op.outcome, detail: op.detail }
      : {
          ...common,
          outcome: op.applyError ? 'failed' : op.applied.length === 0 ? 'ok' : overallOutcome(op.applied),
          detail: { results: op.applied, ...(op.applyError ? { error: op.applyError } : {}) },
        },
  );
}

/** Paused queues and the outbox backlog, for /metrics (sampled: at most one reading per SCRAPE_SAMPLE_MS). */
async function storeSnapshot(runtime: Runtime): Promise<StoreSnapshot> {
  const db = await resources(runtime, 500).db();
  const [paused, outbox] = await Promise.all([
    db.query<{ queue: string }>('SELECT queue FROM queue_pauses'),
    db.query<{ backlog: string; oldest: number | null }>(
      'SELECT count(*) AS backlog, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest FROM outbox WHERE published_at IS NULL',
    ),
  ]);
  const row = outbox.rows[0];
  return { pausedQueues: paused.rows.map((r) => r.queue), outboxBacklog: Number(row?.backlog ?? 0), outboxOldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
}

/** Ready messages and consumers per priority queue, as the broker actor reads them from RabbitMQ. */
function queueDepths(runtime: Runtime): Promise<readonly QueueDepth[]> {
  return runtime.ask(runtime.ref<BrokerMessage>('broker'), 'queue-depths', {}, 500);
}

export interface RunningNode {
  readonly runtime: Runtime;
  /** http://host:port of the API listener, when this role serves the API. */
  readonly apiUrl: string | undefined;
  /** http://host:port of the admin listener (the on-call page and /admin routes), when ADMIN_PORT gives them one. */
  readonly adminUrl: string | undefined;
  /** http://host:port of the ops listener (health and metrics). */
  readonly opsUrl: string;
  /** The token keys in use; `generated` when none were configured (development). */
  readonly keys: TokenKeys;
  /** This API process's cache of active meter links (its stats show hits and misses); undefined on a worker. */
  readonly links: LinkCache | undefined;
  /** Graceful stop: stop accepting, let in-flight requests finish (bounded), stop the tree in reverse order. */
  stop(): Promise<void>;
}

export interface NodeOptions {
  readonly clock?: Clock;
  /** Called when the root supervisor gives up; the process exits non-zero. */
  readonly onFatal?: (error: unknown) => void;
  /** The PIN hasher (tests count its work). @defaultValue bcrypt, cost 10 */
  readonly hasher?: PinHasher;
  /** Extra routes on the API surface (tests). */
  readonly extraRoutes?: readonly RouteDefinition[];
  /** Records admin operations (queue pauses, dead-letter replays). @defaultValue a row in operations_audit */
  readonly onOperation?: OnOperation;
  /**
   * After an admin paused or resumed a queue: makes the consumers follow the table. @defaultValue every alive node's
   * consumers, through the control plane (`apply-queue-pauses` to all)
   */
  readonly applyQueuePauses?: () => Promise<readonly CommandResult[]>;
}

export async function startNode(config: Config, log: Logger, options: NodeOptions = {}): Promise<RunningNode> {
  const keys = await resolveTokenKeys(config);
  const clock = options.clock ?? new SystemClock();
  const runtime = new Runtime({ clock, log, ...(options.onFatal ? { onRootGiveUp: options.onFatal } : {}) });
  // New inbox entries announced across processes (the worker's fan-out publishes, API nodes' live hubs listen):
  // Redis pub/sub when the node has Redis, in process otherwise (the demo). Owned here, closed after the tree.
  const liveBus = createLiveBus(
    config.cache.mode === 'redis'
      ? // A worker only publishes (its fan-out); API nodes hold the sockets and listen.
        { mode: 'redis', url: config.cache.url, receive: config.role !== 'worker', log: log.child({ part: 'live-bus' }) }
      : { mode: 'memory', log },
  );
  // Sessions ended on any API instance: every token check consults it (a worker serves no tokens).
  const revocations =
    config.role === 'worker'
      ? undefined
      : new SessionRevocations({
          bus: liveBus,
          db: () => resources(runtime).db(),
          clock,
          rememberMs: config.sessions.accessTtlMs + TOKEN_CLOCK_TOLERANCE_S * 1_000,
          log: log.child({ part: 'session-revocations' }),
        });
  // Active meter links for rule 5's check, one per API process: the meter-data reads consult it, the services that
  // end links (meters, accounts) forget and announce through it (src/meters/link-cache.ts).
  const links = config.role === 'worker' ? undefined : new LinkCache({ bus: liveBus, clock, log: log.child({ part: 'link-cache' }) });
  // This process in the node registry: one incarnation per start, so a restarted subtree keeps its claims.
  const identity = newNodeIdentity(config.nodeId, config.role);
  // Abuse of the public sign-in routes (SMS budgets, failed logins), reported by the accounts service to /metrics.
  const authWatch = new AuthWatch(log.child({ part: 'accounts' }), config.accounts.smsBudgetAlarmRatio);
  // Queue pauses: the one seam where a pause stored by the admin routes reaches the consumers — every alive node's,
  // through the control plane — and where it is audited.
  const applyQueuePauses =
    options.applyQueuePauses ??
    (() => runtime.ask(runtime.ref<ControlPlaneMessage>(CONTROL_PLANE), 'send', { to: ALL_NODES, command: { type: 'apply-queue-pauses' } }, config.control.commandTimeoutMs + 2_000));
  const onOperation = options.onOperation ?? ((op) => auditOperation(runtime, op));
  // The instruments parts feed as things happen, on the registry /metrics serves (src/instruments.ts).
  const instruments = new Instruments();
  try {
    await runtime.start(
      rootSpec({
        config,
        asker: runtime,
        registry: () => runtime,
        clock,
        log,
        keys,
        liveBus,
        revocations,
        ...(links ? { links } : {}),
        authWatch,
        identity,
        applyQueuePauses,
        onOperation,
        ...(options.hasher ? { hasher: options.hasher } : {}),
        onSourceCircuit: (source, state) => instruments.circuitState.set({ source }, CIRCUIT_STATE_VALUE[state]),
        pushObserver: instruments.pushObserver(),
      }),
    );
  } catch (e) {
    await liveBus.close();
    instruments.close();
    throw e;
  }
  revocations?.start();
  links?.start();
  if (links) {
    const cache = links;
    instruments.addCache('meter-links', () => {
      const s = cache.stats();
      return { hit: s.hits, miss: s.misses };
    });
  }

  const gateway: Gateway = {
    // The routes apply their deadlines (http/deadlines.ts); the default here serves callers that give none. A query
    // the actor never started because it was restarting is sent again once it is back, within that deadline.
    ask: (actor, type, payload, opts) =>
      waitingOutRestarts((deadlineMs) => runtime.ask(actor, type as never, payload as never, deadlineMs), { deadlineMs: opts?.deadlineMs ?? config.queryDeadlineMs }) as never,
  };
  // Verified once per token and process (the signature is the costliest part of a request); ended sessions are
  // still refused on every request, outside the remembered verification.
  const now = (): number => clock.now();
  const tokens = rememberingVerifiedTokens(createTokenVerifier({ jwks: keys.jwks, issuer: config.jwt.issuer, audience: config.jwt.audience, now }), { now });
  const verifier = reportingSessionChecks(revocations ? refusingEndedSessions(tokens, (sid) => revocations.isEnded(sid)) : tokens, (outcome) =>
    instruments.sessionChecks.inc({ outcome }),
  );
  const metrics = createMetrics(runtime, instruments, {
    ...(config.role === 'api' ? {} : { dispatch: () => dispatchSnapshot(runtime) }),
    ...(config.role === 'worker' ? {} : { auth: authWatch }),
    store: () => storeSnapshot(runtime),
    queues: () => queueDepths(runtime),
  });
  // Aborted as stopping starts: long-lived responses (the dashboard's event streams) end instead of holding the shutdown.
  const shutdown = new AbortController();
  const common = { config, log, gateway, auth: verifier, metrics, requestDurations: instruments.httpDuration, shutdown: shutdown.signal };

  const servers: Server[] = [];
  const liveEndpoints: LiveEndpoint[] = [];
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  const listen = async (surface: Surface, host: string, port: number): Promise<string> => {
    const clients = CLIENT_SURFACES.includes(surface);
    const app = createHttpApp({ ...common, surface, ...(clients && options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}) });
    const server = createServer(app.callback());
    if (clients) {
      liveEndpoints.push(attachLiveEndpoint(server, { gateway, verifier, corsOrigins: config.http.corsOrigins, log: log.child({ part: 'live' }), deadlineMs: config.queryDeadlineMs, now: () => clock.now() }));
    }
    server.keepAliveTimeout = 65_000; // longer than a typical load balancer's idle timeout
    // Node's default (300 s) would cut the largest upload at the slowest client (uploadDeadlineMs) before the route's
    // own deadline answers: the whole body gets that deadline, and a little more so the route's answer comes first.
    server.requestTimeout = largestUploadDeadlineMs(config.requests.attachmentMaxBytes, config.queryDeadlineMs) + 10_000;
    server.on('request', (_req, res: ServerResponse) => {
      if (draining) res.shouldKeepAlive = false;
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    servers.push(server);
    const addr = server.address() as AddressInfo;
    return `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  };

  let apiUrl: string | undefined;
  let adminUrl: string | undefined;
  let opsUrl: string;
  try {
    const admin = config.http.admin;
    if (config.role !== 'worker') apiUrl = await listen(admin ? 'public' : 'api', config.http.host, config.http.port);
    if (config.role !== 'worker' && admin) adminUrl = await listen('admin', admin.host, admin.port);
    opsUrl = await listen('ops', config.http.opsHost, config.http.opsPort);
  } catch (e) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    revocations?.close();
    links?.close();
    await runtime.stop();
    await liveBus.close();
    instruments.close();
    throw e;
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      draining = true;
      shutdown.abort();
      for (const l of liveEndpoints) l.close();
      const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const s of servers) s.closeIdleConnections();
      // A keep-alive connection whose request is in flight is closed once its response is out, not left idle.
      for (const res of inFlight) {
        if (!res.headersSent) res.shouldKeepAlive = false;
        else res.once('finish', () => servers.forEach((s) => s.closeIdleConnections()));
      }
      const timer = setTimeout(() => servers.forEach((s) => s.closeAllConnections()), config.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      // The live hub closes the open WebSockets (1001) as the tree stops.
      revocations?.close();
      links?.close();
      await runtime.stop();
      await liveBus.close();
      instruments.close();
    })());

  return { runtime, apiUrl, adminUrl, opsUrl, keys, links, stop };
}
