// The supervision tree of one process, by role: what runs, in which order, under which policy.
import { accountsActor } from '../../actors/services/accounts.js';
import { inboxActor } from '../../actors/services/inbox.js';
import { notificationJobsActor } from '../../actors/services/notification-jobs.js';
import { InboxService } from '../../src/inbox/inbox-service.js';
import { outboxRelayActor } from '../../actors/services/outbox-relay.js';
import { NotificationJobService } from '../../src/notifications/notification-jobs.js';
import { brokerActor } from '../../actors/resources/broker.js';
import { cacheActor } from '../../actors/resources/cache.js';
import { controlActor } from '../../actors/system/control.js';
import { embeddedPostgresActor, type EmbeddedPostgresMessage } from '../../actors/resources/embedded-postgres.js';
import { postgresActor } from '../../actors/resources/postgres.js';
import { referenceActor } from '../../actors/services/reference.js';
import { smsActor } from '../../actors/resources/sms.js';
import { directoryActor } from '../../actors/resources/directory.js';
import { demoSeedActor } from '../../actors/services/demo-seed.js';
import { DEMO_AGENTS, isDemo } from '../../src/demo/demo-accounts.js';
import { sandboxDirectory } from '../../src/adapters/directory/sandbox-directory.js';
import { DirectoryUnavailableError } from '../../src/adapters/directory/directory-errors.js';
import type { LdapConfig } from '../../src/adapters/directory/ldap-directory.js';
import type { DirectoryMessage } from '../../src/contracts/directory.js';
import { QueryTimeoutError } from '../../src/errors/actor-errors.js';
import { SmsDeliveryUnknownError, SmsUnavailableError } from '../../src/adapters/sms/sms-errors.js';
import { AccountService } from '../../src/accounts/account-service.js';
import type { AuthWatch } from '../../src/accounts/auth-watch.js';
import { DEFAULT_LOCKOUT } from '../../src/accounts/pin-lockout.js';
import { DEFAULT_CODE_POLICY } from '../../src/accounts/one-time-codes.js';
import { bcryptPinHasher, type PinHasher } from '../../src/accounts/pin-hasher.js';
import type { TokenKeys } from '../../src/accounts/token-keys.js';
import type { SmsMessage } from '../../src/contracts/sms.js';
import type { Reply } from '../../src/contracts/reply.js';
import type { CacheMessage } from '../../src/adapters/cache/cache-messages.js';
import { createIpLimiter, type IpLimiter } from '../../src/adapters/cache/ip-limiter.js';
import type { Asker } from '../../src/actor-behaviour.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { QueueConsumersReport, SupervisionRegistry } from '../../src/contracts/supervision.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import { resources } from '../../src/resources.js';
import { actor, supervisor, type ChildSpec, type SupervisorSpec } from '../child-spec.js';
import { consumersSupervisor } from './consumers.js';
import { createDispatchHandler } from '../../src/dispatch/dispatch-handler.js';
import { fcmPoolActor } from '../../actors/dispatch/fcm-pool.js';
import { liveHubActor } from '../../actors/services/live-hub.js';
import type { SessionRevocations } from '../../src/accounts/session-revocations.js';
import { nodeRegistryActor } from '../../actors/system/node-registry.js';
import type { NodeIdentity } from '../../src/cluster/node-registry.js';
import { jobReaperActor } from '../../actors/dispatch/job-reaper.js';
import type { LiveBus } from '../../src/adapters/live-bus/live-bus.js';
import { FCM_POOL, type FcmPoolMessage } from '../../src/dispatch/fcm-pool-messages.js';
import { PRIORITY_QUEUES, type PriorityQueue } from '../../src/domain/priority.js';
import { MAX_FANOUT_BATCH } from '../../src/dispatch/fan-out.js';

export const ROOT = 'root';

/** Settings the directory actor reads besides the directory itself (timeouts); unused fields for the sandbox. */
const SANDBOX_LDAP: LdapConfig = { url: 'ldap://sandbox.invalid', bindDn: '', bindPassword: '', baseDn: '', userFilter: '(uid={login})', agencyAttribute: 'departmentNumber', caFile: undefined, startTls: false, timeoutMs: 1_000 };

/** The resources: rest-for-one, so a restarted embedded database also restarts the pool that used it. */
function resourcesSupervisor(config: Config, asker: Asker): SupervisorSpec {
  const children: ChildSpec[] = [];
  const pg = config.postgres;
  if (pg.mode === 'embedded') children.push(actor({ name: 'embedded-postgres', readiness: 'required', behaviour: embeddedPostgresActor(pg.dataDir), shutdownTimeoutMs: 10_000 }));
  const connection =
    pg.mode === 'embedded'
      ? async () => {
          const url = await asker.ask(asker.ref<EmbeddedPostgresMessage>('embedded-postgres'), 'url', {}, 5_000);
          return { url, migrationUrl: url };
        }
      : async () => ({ url: pg.url, migrationUrl: pg.migrationUrl });
  children.push(
    actor({
      name: 'postgres',
      readiness: 'required',
      behaviour: postgresActor({
        connection,
        poolMax: pg.poolMax,
        queryTimeoutMs: pg.queryTimeoutMs,
        acquireTimeoutMs: pg.acquireTimeoutMs,
        migrateOnStart: pg.migrateOnStart,
        applicationName: `samaconso-${config.role}`,
      }),
    }),
    actor({
      name: 'cache',
      // The cache is bypassed while Redis is down: shown in readiness, never making the process unready.
      readiness: 'optional',
      behaviour: cacheActor(config.cache.mode === 'redis' ? { mode: 'redis', url: config.cache.url } : { mode: 'memory', maxEntries: config.cache.maxEntries }),
    }),
  );
  return supervisor({ name: 'resources', strategy: 'rest-for-one', intensity: { maxRestarts: 5, withinMs: 60_000 }, children });
}

/** What the services share that is built once per process. */
export interface ServiceDeps {
  readonly keys: TokenKeys;
  readonly hasher: PinHasher;
  /** This instance's memory of ended sessions: what the account service ends is announced through it. */
  readonly revocations: SessionRevocations;
  readonly authWatch: AuthWatch | undefined;
}

const fallbackLimiter = createIpLimiter(undefined);

/** The utility's LDAP when configured; in the demo and tests only, the sandbox directory with the demo agents. */
const directoryConfigured = (config: Config): boolean => config.ldap !== undefined || config.sandbox;

/** Asks the directory actor; a directory that is not configured, or does not answer in time, is DIRECTORY_UNAVAILABLE. */
async function askDirectory<T extends DirectoryMessage['type']>(
  config: Config,
  asker: Asker,
  msg: { type: T } & Omit<Extract<DirectoryMessage, { type: T }>, 'type' | 'replyTo'>,
): Promise<Extract<DirectoryMessage, { type: T }> extends { replyTo: Reply<infer R> } ? R : never> {
  if (!directoryConfigured(config)) throw new DirectoryUnavailableError('misconfigured');
  const { type, ...payload } = msg;
  // Longer than the directory's own bound, so a hung directory answers 503 DIRECTORY_UNAVAILABLE, not a 504.
  try {
    return (await asker.ask(asker.ref<DirectoryMessage>('directory'), type, payload as never, (config.ldap?.timeoutMs ?? 1_000) + 1_000)) as never;
  } catch (e) {
    if (e instanceof QueryTimeoutError) throw new DirectoryUnavailableError('timeout', 1_000, { cause: e });
    throw e;
  }
}

function accountService(config: Config, asker: Asker, deps: ServiceDeps, clock: Clock, log: Logger): AccountService {
  const res = resources(asker);
  return new AccountService({
    db: () => res.db(),
    clock,
    hasher: deps.hasher,
    signing: deps.keys.signing,
    secret: deps.keys.authSecret,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    sessions: config.sessions,
    codes: {
      ...DEFAULT_CODE_POLICY,
      smsPerPhonePerHour: config.accounts.smsPerPhonePerHour,
      smsPerPhonePerDay: config.accounts.smsPerPhonePerDay,
      smsOverallPerDay: config.accounts.smsOverallPerDay,
    },
    lockout: { ...DEFAULT_LOCKOUT, failureWindowMs: config.accounts.pinFailureWindowMs },
    ...(deps.authWatch ? { watch: deps.authWatch } : {}),
    sendSms: async (to, text) => {
      if (config.sms.mode === 'none') throw new SmsUnavailableError('no SMS gateway is configured', 60_000);
      // Retries live in the SMS actor; this deadline covers them (3 attempts of at most 8 s, plus backoff).
      try {
        await asker.ask(asker.ref<SmsMessage>('sms'), 'send', { to, text }, 30_000);
      } catch (e) {
        // The actor may still be sending: the SMS may arrive, so it counts as sent.
        if (e instanceof QueryTimeoutError) throw new SmsDeliveryUnknownError('the SMS gateway did not answer in time', undefined, { cause: e });
        throw e;
      }
    },
    onAuditError: (err) => log.error({ err }, 'audit event not recorded'),
    sessionsEnded: (ended) => deps.revocations.announce(ended),
    authenticateAgent: (login, password) => askDirectory(config, asker, { type: 'authenticate', login, password }),
    lookupAgent: (login) => askDirectory(config, asker, { type: 'lookup', login }),
    limit: async (action, ip) => {
      let limiter: IpLimiter;
      try {
        limiter = await asker.ask(asker.ref<CacheMessage>('cache'), 'ip-limiter', {}, 1_000);
      } catch {
        limiter = fallbackLimiter; // the cache actor is restarting: this process counts alone meanwhile
      }
      await limiter.consume(action, ip);
    },
  });
}

/** Consumers of each priority queue, from the broker; bounded so a health probe never waits on RabbitMQ. */
async function queueConsumers(asker: Asker): Promise<QueueConsumersReport> {
  const counts = await asker.ask(asker.ref<BrokerMessage>('broker'), 'consumer-counts', {}, 500);
  return { state: 'known', queues: counts.queues, flagged: counts.flagged };
}

/** The tree for this role. `registry` is the runtime itself, given late because it is built first. */
export function rootSpec(
  config: Config,
  asker: Asker,
  registry: () => SupervisionRegistry,
  options: {
    clock: Clock;
    log: Logger;
    keys: TokenKeys;
    liveBus: LiveBus;
    revocations: SessionRevocations | undefined;
    /** This process in the node registry (src/node.ts makes it once per process: a restart of a subtree keeps it). */
    identity: NodeIdentity;
    hasher?: PinHasher;
    authWatch?: AuthWatch;
  },
): SupervisorSpec {
  const topology = { retryTiersMs: config.broker.retryTiersMs, deliveryLimit: config.broker.deliveryLimit };
  const children: ChildSpec[] = [
    actor({
      name: 'control',
      readiness: 'required',
      behaviour: controlActor(registry, config.role, ROOT, config.role === 'worker' ? {} : { queueConsumers: () => queueConsumers(asker) }),
    }),
    resourcesSupervisor(config, asker),
    // Right after the resources: every role heartbeats; it stops after everything that holds batch claims.
    actor({
      name: 'node-registry',
      readiness: 'optional',
      behaviour: nodeRegistryActor({
        identity: options.identity,
        heartbeatMs: config.registry.heartbeatMs,
        staleAfterMs: config.registry.staleAfterMs,
        shuttingDown: () => registry().stopping,
      }),
    }),
    // Beside `resources`, not under it: a PostgreSQL restart (rest-for-one there) must not close the broker.
    actor({
      name: 'broker',
      // The API accepts jobs through the outbox while RabbitMQ is down; a worker cannot work without it.
      readiness: config.role === 'worker' ? 'required' : 'optional',
      behaviour: brokerActor(
        config.broker.url ? { mode: 'amqp', url: config.broker.url, connectionName: `samaconso-${config.role}`, topology } : { mode: 'memory', topology },
      ),
    }),
  ];
  // The worker's side: the FCM pool (sender threads, rate limit, push scheduler) before the consumers, so on
  // shutdown the consumers stop first (no new deliveries; those in flight are sent and acked) and the pool after.
  // Without an FCM project outside the demo and tests the worker side does not start: its queues wait in RabbitMQ
  // (the API flags them as unconsumed) rather than be consumed by a sender that could not deliver.
  if (config.role !== 'api' && config.dispatch.fcm.mode !== 'none') {
    const d = config.dispatch;
    const res = resources(asker);
    const log = options.log.child({ part: 'dispatch' });
    children.push(
      actor({
        name: FCM_POOL,
        readiness: 'required',
        shutdownTimeoutMs: config.shutdownTimeoutMs,
        behaviour: fcmPoolActor({
          sender:
            d.fcm.mode === 'fcm'
              ? {
                  mode: 'pool',
                  threads: d.fcm.threads,
                  urgentThreads: d.fcm.urgentThreads,
                  options: { projectId: d.fcm.projectId, credential: d.fcm.credentialsFile, transport: d.fcm.transport, proxyUrl: d.fcm.proxyUrl, extraCaFile: d.fcm.extraCaFile, maxInFlight: d.fcm.sendsPerThread, sessions: d.fcm.sessionsPerThread },
                  // 0: V8's default, i.e. no limit given to Node (which would take 0 literally)
                  resourceLimits: {
                    ...(d.fcm.threadMaxOldMb > 0 ? { maxOldGenerationSizeMb: d.fcm.threadMaxOldMb } : {}),
                    ...(d.fcm.threadMaxYoungMb > 0 ? { maxYoungGenerationSizeMb: d.fcm.threadMaxYoungMb } : {}),
                  },
                }
              : { mode: 'sandbox' },
          rateLimit:
            config.cache.mode === 'redis'
              ? { mode: 'redis', url: config.cache.url, projectId: d.fcm.mode === 'fcm' ? d.fcm.projectId : 'sandbox', ratePerMinute: d.ratePerMinute, workerCount: d.workerCount }
              : { mode: 'local', ratePerMinute: d.ratePerMinute },
          scheduler: {
            maxInFlight: d.batchesInFlight,
            reservedForUrgent: d.urgentReserved,
            weights: d.weights,
            splitLowAbove: d.lowSplit,
            // What the prefetch can deliver of full batches: the scheduler holds the consumers' deliveries.
            capacity: Object.fromEntries(PRIORITY_QUEUES.map((q) => [q, d.prefetch[q] * MAX_FANOUT_BATCH])) as Record<PriorityQueue, number>,
          },
          ...(d.progress.step > 0 ? { progress: d.progress } : {}),
        }),
      }),
    );
    const handle = createDispatchHandler({
      db: () => res.db(),
      broker: () => asker.ask(asker.ref<BrokerMessage>('broker'), 'lend', {}, 1_000),
      pipeline: () => asker.ask(asker.ref<FcmPoolMessage>(FCM_POOL), 'lend', {}, 1_000),
      clock: options.clock,
      maxAttempts: d.maxSendAttempts,
      deliveryLimit: config.broker.deliveryLimit,
      live: options.liveBus,
      claimOwner: config.nodeId,
      holder: options.identity.incarnation,
      claimLeaseMs: d.claimLeaseMs,
      outageHoldMs: d.outageHoldMs,
      onOutage: (detail, retryInMs) => log.warn({ retryInMs }, `delivery held while a dependency is away (${detail}); handled again in ${retryInMs} ms`),
      onResult: (r) => {
        if (r.outcome === 'ack') log.debug(r, 'delivery handled');
        else log.warn(r, `delivery ${r.outcome === 'reject' ? 'rejected (dead-lettered)' : 'returned to its queue'}: ${r.detail}`);
      },
    });
    children.push(
      consumersSupervisor({ prefetch: d.prefetch, handle, drainTimeoutMs: config.shutdownTimeoutMs }),
      // Settles what lost messages left unsettled; optional: a pass that fails waits for the next one.
      actor({ name: 'job-reaper', readiness: 'optional', behaviour: jobReaperActor(d.reaper) }),
    );
  }
  if (config.role !== 'worker') {
    const res = resources(asker);
    const revocations = options.revocations;
    if (!revocations) throw new Error('an API node needs its ended-session registry (src/accounts/session-revocations.ts)');
    const deps: ServiceDeps = { hasher: options.hasher ?? bcryptPinHasher(), keys: options.keys, revocations, authWatch: options.authWatch };
    const sms =
      config.sms.mode === 'gateway'
        ? smsActor({ transport: 'gateway', url: config.sms.url, timeoutMs: config.sms.timeoutMs })
        : config.sms.mode === 'sandbox'
          ? smsActor({ transport: 'sandbox' })
          : undefined;
    children.push(
      supervisor({
        name: 'services',
        children: [
          ...(sms ? [actor({ name: 'sms', readiness: 'optional', behaviour: sms })] : []),
          actor({ name: 'reference', readiness: 'required', behaviour: referenceActor(res) }),
          actor({
            name: 'notification-jobs',
            readiness: 'required',
            behaviour: notificationJobsActor(() => new NotificationJobService({ db: () => res.db(), clock: options.clock })),
          }),
          actor({ name: 'inbox', readiness: 'required', behaviour: inboxActor(() => new InboxService({ db: () => res.db(), clock: options.clock })) }),
          // Optional: while Redis is down the WebSockets get nothing new (backing-off); the inbox is the record.
          actor({ name: 'live-hub', readiness: 'optional', behaviour: liveHubActor({ bus: options.liveBus, sessionsEnded: revocations }) }),
          // Optional: jobs are accepted into the outbox while RabbitMQ is down; the relay catches up after.
          actor({ name: 'outbox-relay', readiness: 'optional', behaviour: outboxRelayActor() }),
          actor({ name: 'accounts', readiness: 'required', behaviour: accountsActor(() => accountService(config, asker, deps, options.clock, options.log.child({ service: 'accounts' }))) }),
          ...(directoryConfigured(config)
            ? [
                actor({
                  name: 'directory',
                  readiness: 'optional',
                  behaviour: config.ldap
                    ? directoryActor(config.ldap)
                    : directoryActor(SANDBOX_LDAP, { directory: () => sandboxDirectory(DEMO_AGENTS), probeOnStart: false }),
                }),
              ]
            : []),
          ...(isDemo(config) ? [actor({ name: 'demo-seed', restart: 'temporary', behaviour: demoSeedActor(res, (pin) => deps.hasher.hash(pin)) })] : []),
        ],
      }),
    );
  }
  return supervisor({ name: ROOT, intensity: { maxRestarts: 3, withinMs: 60_000 }, children });
}
