// The API's services supervisor: the actors HTTP requests reach, and what they lean on (SMS, directory, relay).
import { brokerAdminActor } from '../../actors/services/broker-admin-actor.js';
import { onCallActor } from '../../actors/services/on-call-actor.js';
import { accountsActor } from '../../actors/services/accounts-actor.js';
import { customerDataActor } from '../../actors/services/customer-data-actor.js';
import { dashboardActor } from '../../actors/services/dashboard-actor.js';
import { demoSeedActor } from '../../actors/services/demo-seed-actor.js';
import { inboxActor } from '../../actors/services/inbox-actor.js';
import { liveHubActor } from '../../actors/services/live-hub-actor.js';
import { metersActor } from '../../actors/services/meters-actor.js';
import { meterDataActor } from '../../actors/services/meter-data-actor.js';
import { notificationJobsActor } from '../../actors/services/notification-jobs-actor.js';
import { outboxRelayActor } from '../../actors/services/outbox-relay-actor.js';
import { referenceActor } from '../../actors/services/reference-actor.js';
import { requestJanitorActor } from '../../actors/services/request-janitor-actor.js';
import { requestsActor } from '../../actors/services/requests-actor.js';
import { QUEUE_PAUSES, queuePausesActor } from '../../actors/services/queue-pauses-actor.js';
import { QueuePauseService } from '../../src/dispatch/queue-pause-service.js';
import { sicRegistrarActor } from '../../actors/services/sic-registrar-actor.js';
import { directoryActor } from '../../actors/resources/directory-actor.js';
import { smsActor } from '../../actors/resources/sms-actor.js';
import { createAccountService, directoryConfigured, type AccountProcessDeps } from '../../src/accounts/account-factory.js';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { SANDBOX_LDAP, sandboxDirectory } from '../../src/adapters/directory/sandbox-directory.js';
import type { Config } from '../../src/config.js';
import { CustomerDataReader, createSubscriptionLookup } from '../../src/customer-data/index.js';
import { createDashboardService } from '../../src/dashboard/index.js';
import { DEMO_AGENTS, isDemo } from '../../src/demo/demo-accounts.js';
import { InboxService } from '../../src/inbox/inbox-service.js';
import { SIC_REGISTRAR, createMeterLinkService, createMeterReads } from '../../src/meters/index.js';
import { NotificationJobService } from '../../src/notifications/notification-jobs.js';
import { createReferenceService } from '../../src/reference/index.js';
import { createRequestsService, requestDeps } from '../../src/requests/index.js';
import { buildTopology } from '../../src/adapters/broker/topology.js';
import { browseDeadLetters } from '../../src/adapters/broker/dead-letter-browser.js';
import { replayDeadLetters } from '../../src/adapters/broker/dead-letter-replay.js';
import { BrokerAdminService } from '../../src/operations/broker-admin.js';
import { OnCallService } from '../../src/operations/on-call-snapshot.js';
import { controlPlaneClusterView } from '../../src/operations/control-plane-cluster-view.js';
import { brokerManagement } from '../../src/operations/broker-management.js';
import { pausedQueuesFrom } from '../../src/dispatch/index.js';
import { resources } from '../../src/resources.js';
import { actor, supervisor, type ChildSpec, type SupervisorSpec } from '../child-spec.js';
import type { TreeContext } from './tree-context.js';

/** How long each part of the on-call snapshot may take (the dead letters twice that). */
const ON_CALL_PART_MS = 4_000;

function smsChild(config: Config): ChildSpec[] {
  const sms = config.sms;
  if (sms.mode === 'none') return [];
  return [actor({ name: 'sms', readiness: 'optional', behaviour: sms.mode === 'gateway' ? smsActor({ transport: 'gateway', url: sms.url, timeoutMs: sms.timeoutMs }) : smsActor({ transport: 'sandbox' }) })];
}

function directoryChild(config: Config): ChildSpec[] {
  if (!directoryConfigured(config)) return [];
  const behaviour = config.ldap ? directoryActor(config.ldap) : directoryActor(SANDBOX_LDAP, { directory: () => sandboxDirectory(DEMO_AGENTS), probeOnStart: false });
  return [actor({ name: 'directory', readiness: 'optional', behaviour })];
}

/** The SIC registration relay, where SIC is a configured source (it writes through `source-sic`). */
function sicRegistrarChild(config: Config): ChildSpec[] {
  const { sources, sicRegistrationPollMs, queryTimeoutMs } = config.sources;
  if (!sources.some((s) => s.name === 'sic')) return [];
  // Optional: a link never waits for SIC (DESIGN.md 5); the rows wait in the outbox while SIC or the relay is away.
  return [actor({ name: SIC_REGISTRAR, readiness: 'optional', behaviour: sicRegistrarActor({ pollMs: sicRegistrationPollMs, queryTimeoutMs }) })];
}

/** On-call's view of the broker and the jobs: the management API, the pauses, the dead letters. */
function brokerAdminService(ctx: TreeContext, res: ReturnType<typeof resources>): BrokerAdminService {
  const { config } = ctx;
  const exchange = buildTopology({ retryTiersMs: config.broker.retryTiersMs, deliveryLimit: config.broker.deliveryLimit }).exchange;
  return new BrokerAdminService({
    management: brokerManagement(config.broker.management),
    paused: pausedQueuesFrom(() => res.db()),
    db: () => res.db(),
    browseDeadLetters: (limit) => browseDeadLetters(config.broker.urls, limit),
    replayDeadLetters: (selection) => replayDeadLetters(config.broker.urls, exchange, selection),
    clock: ctx.clock,
    ...(ctx.onOperation ? { onOperation: ctx.onOperation } : {}),
  });
}

export function servicesSupervisor(ctx: TreeContext): SupervisorSpec {
  const { config, asker, clock } = ctx;
  const res = resources(asker);
  // One reader of the utility's data for the process: linking, the reads and the subscription lookup share its
  // in-process answers and its one-load-per-key, so a miss on a key is one source call whichever service asks.
  const reader = new CustomerDataReader({ asker, clock, queryTimeoutMs: config.sources.queryTimeoutMs });
  if (!ctx.revocations) throw new Error('an API node needs its ended-session registry (src/accounts/session-revocations.ts)');
  const accounts: AccountProcessDeps = {
    keys: ctx.keys,
    hasher: ctx.hasher ?? bcryptPinHasher(),
    revocations: ctx.revocations,
    ...(ctx.links ? { links: ctx.links } : {}),
    authWatch: ctx.authWatch,
    clock,
    log: ctx.log.child({ service: 'accounts' }),
  };
  return supervisor({
    name: 'services',
    children: [
      ...smsChild(config),
      actor({ name: 'reference', readiness: 'required', behaviour: referenceActor(() => createReferenceService(asker, clock)) }),
      actor({ name: 'dashboard', readiness: 'required', behaviour: dashboardActor(() => createDashboardService(asker, clock, config.dashboard)) }),
      actor({ name: 'notification-jobs', readiness: 'required', behaviour: notificationJobsActor(() => new NotificationJobService({ db: () => res.db(), clock })) }),
      actor({
        name: QUEUE_PAUSES,
        readiness: 'optional',
        behaviour: queuePausesActor(
          () =>
            new QueuePauseService({
              db: () => res.db(),
              clock,
              log: ctx.log.child({ service: QUEUE_PAUSES }),
              apply: ctx.applyQueuePauses ?? (async () => []),
              ...(ctx.onOperation ? { onOperation: ctx.onOperation } : {}),
            }),
        ),
      }),
      // Optional: the management API being away answers 503 on /admin/queues alone.
      actor({ name: 'broker-admin', readiness: 'optional', behaviour: brokerAdminActor(() => brokerAdminService(ctx, res)) }),
      // Optional: the dashboard's snapshot reads the parts above; one of them away is named on the page, not an outage.
      actor({
        name: 'on-call',
        readiness: 'optional',
        behaviour: onCallActor(() => new OnCallService({ asker, clock, db: () => res.db(), cluster: controlPlaneClusterView(asker, ON_CALL_PART_MS), partDeadlineMs: ON_CALL_PART_MS, deadLettersEveryMs: 15_000 })),
      }),
      actor({ name: 'inbox', readiness: 'required', behaviour: inboxActor(() => new InboxService({ db: () => res.db(), clock })) }),
      // Optional: while Redis is down the WebSockets get nothing new (backing-off); the inbox is the record.
      actor({ name: 'live-hub', readiness: 'optional', behaviour: liveHubActor({ bus: ctx.liveBus, sessionsEnded: ctx.revocations }) }),
      // Optional: jobs are accepted into the outbox while RabbitMQ is down; the relay catches up after.
      actor({ name: 'outbox-relay', readiness: 'optional', behaviour: outboxRelayActor() }),
      actor({ name: 'accounts', readiness: 'required', behaviour: accountsActor(() => createAccountService(config, asker, accounts)) }),
      ...directoryChild(config),
      // Optional: it reads the sources, which never make the process unready either (root.ts starts them first).
      actor({ name: 'customer-data', readiness: 'optional', behaviour: customerDataActor(() => createSubscriptionLookup(reader, asker)) }),
      ...sicRegistrarChild(config),
      // Required, like the inbox: a customer's links live in PostgreSQL; SIC being down fails a new link alone (503).
      actor({ name: 'meters', readiness: 'required', behaviour: metersActor(() => createMeterLinkService(reader, asker, clock, ctx.links)) }),
      // Optional, like customer-data: a meter's data is read from the sources (its links from PostgreSQL).
      actor({ name: 'meter-data', readiness: 'optional', behaviour: meterDataActor(() => createMeterReads(reader, asker, clock, ctx.links)) }),
      // Required, like the inbox: requests live in PostgreSQL; storage being down fails an attachment alone (503).
      actor({ name: 'requests', readiness: 'required', behaviour: requestsActor(() => createRequestsService(config.requests, asker, clock, ctx.log.child({ service: 'requests' }))) }),
      // Optional: orphans and expired attachments wait in storage while it or PostgreSQL is away; the next pass catches up.
      actor({
        name: 'request-janitor',
        readiness: 'optional',
        behaviour: requestJanitorActor(() => requestDeps(config.requests, asker, clock), {
          intervalMs: config.requests.janitorIntervalMs,
          uploadAgeMs: config.requests.uploadSweepAgeMs,
          retentionMs: config.requests.attachmentRetentionMs,
        }),
      }),
      ...(isDemo(config) ? [actor({ name: 'demo-seed', restart: 'temporary', behaviour: demoSeedActor(res, (pin) => accounts.hasher.hash(pin)) })] : []),
    ],
  });
}
