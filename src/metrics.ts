// Prometheus metrics of this process: actor stats read from the supervision tree at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuthWatch, LoginKind, SmsLimit } from './accounts/index.js';
import { ACTOR_STATES, type TreeNode } from './contracts/supervision.js';
import { PRIORITY_QUEUES } from './domain/priority.js';
import type { ConsumerStats, FcmPoolReport } from './dispatch/index.js';
import type { Instruments } from './instruments.js';
import { sampledEvery } from './sampled.js';

/** What the database says about queues and the outbox, read at most every few seconds (see sampledEvery). */
export interface StoreSnapshot {
  readonly pausedQueues: readonly string[];
  readonly outboxBacklog: number;
  readonly outboxOldestAgeSeconds: number;
}

/** Ready messages and consumers of each queue, as the broker last reported them. */
export interface QueueDepth {
  readonly queue: string;
  readonly messages: number | undefined;
  readonly consumers: number;
}

/** The sources read at scrape time besides the actor tree; each absent one leaves its families empty. */
export interface ScrapeSources {
  readonly dispatch?: () => Promise<DispatchSnapshot>;
  readonly auth?: AuthWatch;
  readonly store?: () => Promise<StoreSnapshot>;
  readonly queues?: () => Promise<readonly QueueDepth[]>;
}

/** How long a database or broker reading serves scrapes before it is read again. */
export const SCRAPE_SAMPLE_MS = 5_000;

/** What a worker reports about dispatch at scrape time (parts that are restarting are simply left out). */
export interface DispatchSnapshot {
  readonly pool: FcmPoolReport | undefined;
  readonly consumers: readonly ConsumerStats[];
}

export function createMetrics(source: { tree(): TreeNode; deadLetters: Record<string, number> }, instruments: Instruments, sources: ScrapeSources = {}) {
  const { registry } = instruments;
  const { dispatch, auth } = sources;
  const walk = (n: TreeNode, out: TreeNode[] = []): TreeNode[] => {
    out.push(n);
    n.children?.forEach((c) => walk(c, out));
    return out;
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });
  gauge('samaconso_actor_state', '1 for the state each actor or supervisor is in', ['actor', 'kind', 'state'], (g) => {
    for (const n of walk(source.tree())) for (const s of ACTOR_STATES) g.set({ actor: n.name, kind: n.kind, state: s }, n.stats.state === s ? 1 : 0);
  });
  const perNode = (name: string, help: string, pick: (n: TreeNode) => number) =>
    gauge(name, help, ['actor', 'kind'], (g) => {
      for (const n of walk(source.tree())) g.set({ actor: n.name, kind: n.kind }, pick(n));
    });
  perNode('samaconso_actor_mailbox_depth', 'Messages waiting in the actor mailbox', (n) => n.stats.mailboxDepth);
  perNode('samaconso_actor_handled', 'Messages handled since the process started', (n) => n.stats.handled);
  perNode('samaconso_actor_crashes', 'Crashes since the process started', (n) => n.stats.crashes);
  perNode('samaconso_actor_restarts', 'Restarts since the process started', (n) => n.stats.restarts);
  gauge('samaconso_dead_letters', 'Messages that reached no actor, by reason', ['reason'], (g) => {
    for (const [reason, count] of Object.entries(source.deadLetters)) g.set({ reason }, count);
  });
  // Counters of the same totals (issue 13); the gauges above keep their names for existing dashboards.
  const perActor = (name: string, help: string, pick: (n: TreeNode) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['actor'],
      registers: [registry],
      collect() {
        this.reset();
        for (const n of walk(source.tree())) this.inc({ actor: n.name }, pick(n));
      },
    });
  perActor('samaconso_actor_crashes_total', 'Crashes of each actor or supervisor since the process started', (n) => n.stats.crashes);
  perActor('samaconso_actor_restarts_total', 'Restarts of each actor or supervisor since the process started', (n) => n.stats.restarts);
  addStoreMetrics(registry, sources.store ? sampledEvery(sources.store, SCRAPE_SAMPLE_MS) : undefined);
  addQueueMetrics(registry, sources.queues ? sampledEvery(sources.queues, SCRAPE_SAMPLE_MS) : undefined);
  new Gauge({
    name: 'samaconso_fcm_pool_utilisation',
    help: 'Busy FCM sender threads over threads (0..1); 0 where no pool runs',
    registers: [registry],
    async collect() {
      const pool = dispatch ? (await dispatch().catch(() => undefined))?.pool?.pool : undefined;
      this.set(pool && pool.threads > 0 ? Math.min(1, pool.inFlight / pool.threads) : 0);
    },
  });
  if (dispatch) addDispatchMetrics(registry, dispatch);
  if (auth) addAuthMetrics(registry, auth);
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
}

/** Gauges filled at scrape time from one reading `read` gives (undefined: the gauge reports nothing this scrape). */
function snapshotGauges<S>(registry: Registry, read: () => Promise<S | undefined>) {
  return (name: string, help: string, labelNames: string[], collect: (g: Gauge, s: S) => void): Gauge =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const s = await read();
        if (s !== undefined) collect(this, s);
      },
    });
}

/** The worker's dispatch: consumers, push scheduler, FCM pool and rate limit, read once per scrape. */
function addDispatchMetrics(registry: Registry, dispatch: () => Promise<DispatchSnapshot>): void {
  // One snapshot per scrape, shared by every gauge of that scrape.
  let current: Promise<DispatchSnapshot> | undefined;
  const snapshot = () => (current ??= dispatch().finally(() => setImmediate(() => (current = undefined))));
  const gauge = snapshotGauges(registry, snapshot);
  gauge('samaconso_consumer_deliveries', 'Deliveries handled by each queue consumer since it started, by outcome', ['queue', 'outcome'], (g, s) => {
    for (const c of s.consumers) {
      g.set({ queue: c.queue, outcome: 'ack' }, c.acks);
      g.set({ queue: c.queue, outcome: 'nack-requeue' }, c.nacks);
      g.set({ queue: c.queue, outcome: 'reject' }, c.rejects);
    }
  });
  gauge('samaconso_consumer_in_flight', 'Deliveries each queue consumer holds unacked now (at most its prefetch)', ['queue'], (g, s) => {
    for (const c of s.consumers) g.set({ queue: c.queue }, c.inFlight);
  });
  gauge('samaconso_consumer_paused', '1 when the queue consumer is paused', ['queue'], (g, s) => {
    for (const c of s.consumers) g.set({ queue: c.queue }, c.pausedReason === undefined ? 0 : 1);
  });
  gauge('samaconso_push_queued_tokens', 'Device tokens waiting in the push scheduler, by priority queue', ['queue'], (g, s) => {
    for (const [queue, q] of Object.entries(s.pool?.pipeline.queues ?? {})) g.set({ queue }, q.queuedTokens);
  });
  gauge('samaconso_push_in_flight_batches', 'Batches in the FCM pool now, by priority queue', ['queue'], (g, s) => {
    for (const [queue, q] of Object.entries(s.pool?.pipeline.queues ?? {})) g.set({ queue }, q.inFlight);
  });
  gauge('samaconso_push_handed_out_tokens', 'Device tokens handed to the FCM pool since start, by priority queue', ['queue'], (g, s) => {
    for (const [queue, q] of Object.entries(s.pool?.pipeline.queues ?? {})) g.set({ queue }, q.handedOutTokens);
  });
  gauge('samaconso_push_waiting_batches', 'Batches waiting for room in their scheduler queue (backpressure)', [], (g, s) => {
    if (s.pool) g.set(s.pool.pipeline.waiting);
  });
  gauge('samaconso_fcm_outcomes', 'Per-token FCM outcomes since start, by kind and code', ['outcome'], (g, s) => {
    for (const [outcome, n] of Object.entries(s.pool?.pipeline.outcomes ?? {})) g.set({ outcome }, n);
  });
  gauge('samaconso_fcm_alerts', 'Messages FCM refused for a reason a person must fix (auth, configuration, payload), since start', [], (g, s) => {
    if (s.pool) g.set(s.pool.pipeline.alerts);
  });
  gauge('samaconso_fcm_sender_failures', 'Batches whose sender failed as a whole (a thread died): returned to RabbitMQ', [], (g, s) => {
    if (s.pool) g.set(s.pool.pipeline.senderFailures);
  });
  gauge('samaconso_fcm_rate_pauses', 'Sending pauses after an FCM 429, since start', [], (g, s) => {
    if (s.pool) g.set(s.pool.pipeline.pauses);
  });
  gauge('samaconso_fcm_rate_limit_local', '1 while the shared FCM rate limit runs on the local fallback (Redis unreachable)', [], (g, s) => {
    if (s.pool?.rateLimit) g.set(s.pool.rateLimit.mode === 'local' ? 1 : 0);
  });
}

/** The API's sign-in abuse signals (see src/accounts/auth-watch.ts and the alarm thresholds in README.md). */
function addAuthMetrics(registry: Registry, auth: AuthWatch): void {
  new Counter({
    name: 'samaconso_login_failures_total',
    help: 'Sign-ins refused for a wrong PIN or password or an unknown account, by kind (customer, agent); alarm on its rate',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(auth.loginFailures) as [LoginKind, number][]) this.inc({ kind }, n);
    },
  });
  new Gauge({
    name: 'samaconso_sms_overall_sent_today',
    help: 'SMS counted today (UTC) against SMS_OVERALL_PER_DAY, as this process last saw it',
    registers: [registry],
    collect() {
      this.set(auth.overallSent);
    },
  });
  new Gauge({
    name: 'samaconso_sms_overall_budget_ratio',
    help: 'Share of SMS_OVERALL_PER_DAY used today; alarm at SMS_BUDGET_ALARM_RATIO',
    registers: [registry],
    collect() {
      this.set(auth.overallRatio);
    },
  });
  new Counter({
    name: 'samaconso_sms_budget_refusals_total',
    help: 'One-time code SMS refused by a budget, by limit (phone-hour, phone-day, overall)',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [limit, n] of Object.entries(auth.smsRefusals) as [SmsLimit, number][]) this.inc({ limit }, n);
    },
  });
}

/** Paused queues (queue_pauses) and the outbox backlog, from one sampled database reading. */
function addStoreMetrics(registry: Registry, store: (() => Promise<StoreSnapshot | undefined>) | undefined): void {
  const gauge = snapshotGauges(registry, async () => (store ? store() : undefined));
  gauge('samaconso_queue_paused', '1 when the control plane paused the queue (a queue_pauses row), else 0', ['queue'], (g, s) => {
    for (const queue of PRIORITY_QUEUES) g.set({ queue }, s.pausedQueues.includes(queue) ? 1 : 0);
  });
  gauge('samaconso_outbox_backlog', 'Outbox rows not yet published to RabbitMQ', [], (g, s) => g.set(s.outboxBacklog));
  gauge('samaconso_outbox_oldest_age_seconds', 'Age of the oldest unpublished outbox row (0 when none)', [], (g, s) => g.set(s.outboxOldestAgeSeconds));
}

/** Ready messages and consumers per queue, from one sampled broker reading. */
function addQueueMetrics(registry: Registry, queues: (() => Promise<readonly QueueDepth[] | undefined>) | undefined): void {
  const gauge = (name: string, help: string, pick: (q: QueueDepth) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const q of (queues ? await queues() : undefined) ?? []) {
          const v = pick(q);
          if (v !== undefined) this.set({ queue: q.queue }, v);
        }
      },
    });
  gauge('samaconso_queue_messages', 'Messages ready in each queue, as RabbitMQ reports them', (q) => q.messages);
  gauge('samaconso_queue_consumers', 'Consumers of each queue across all processes, as RabbitMQ reports them', (q) => q.consumers);
}
