// The instruments parts of the process feed as things happen (HTTP requests, FCM sends, cache lookups, session
// checks), on the one Prometheus registry of the process that /metrics serves (src/metrics.ts adds the families
// read at scrape time). Names: src/metric-names.ts.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type CacheOutcome = 'hit' | 'miss' | 'error' | 'stale';

/** Seconds from 5 ms to 10 s: API answers and scheduler waits both fall in it. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Instruments {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'samaconso_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (never the raw path; "unmatched" when no route) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly fcmSends = new Counter({
    name: 'samaconso_fcm_sends_total',
    help: 'Per-token FCM send outcomes, by outcome and priority queue',
    labelNames: ['outcome', 'priority'] as const,
    registers: [this.registry],
  });
  readonly schedulerWait = new Histogram({
    name: 'samaconso_scheduler_wait_seconds',
    help: 'Time a batch waited in the push scheduler before the FCM pool took it, by priority queue',
    labelNames: ['priority'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly caches = new Map<string, () => Partial<Record<CacheOutcome, number>>>();
  readonly cacheRequests = (() => {
    const caches = this.caches;
    return new Counter({
      name: 'samaconso_cache_requests_total',
      help: 'Cache lookups by cache and outcome (hit, miss, error, stale), from each cache\'s own totals',
      labelNames: ['cache', 'outcome'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [cache, read] of caches) for (const [outcome, n] of Object.entries(read())) this.inc({ cache, outcome }, n);
      },
    });
  })();
  readonly sessionChecks = new Counter({
    name: 'samaconso_session_checks_total',
    help: 'Access-token session checks on requests, by outcome (valid, revoked, expired)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: 'samaconso_source_circuit_state',
    help: 'Circuit breaker of each source system: 0 closed, 1 half-open, 2 open',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private readonly loopDelay: IntervalHistogram;

  constructor() {
    // Older names (samaconso_process_*, samaconso_nodejs_*) stay as they were.
    collectDefaultMetrics({ register: this.registry, prefix: 'samaconso_' });
    // The unprefixed event-loop lag names the alert rules use, from a histogram reset at each scrape.
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    const loop = this.loopDelay;
    let last = { mean: 0, p99: 0, max: 0 };
    const sample = () => {
      // One read per scrape, shared by the three gauges (prom-client collects them one after the other).
      if (loop.count > 0) last = { mean: loop.mean / 1e9, p99: loop.percentile(99) / 1e9, max: loop.max / 1e9 };
      return last;
    };
    const lag = (name: string, help: string, pick: (s: typeof last) => number, resetAfter = false) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(pick(sample()));
          if (resetAfter) loop.reset();
        },
      });
    lag('nodejs_eventloop_lag_seconds', 'Mean event-loop delay since the previous scrape, in seconds', (s) => s.mean);
    lag('nodejs_eventloop_lag_p99_seconds', '99th percentile event-loop delay since the previous scrape, in seconds', (s) => s.p99);
    lag('nodejs_eventloop_lag_max_seconds', 'Largest event-loop delay since the previous scrape, in seconds', (s) => s.max, true);
  }

  /** What the push pipeline tells: per-token outcomes (by kind) and each chunk's wait in the scheduler. */
  pushObserver(): { sent(queue: string, outcomes: readonly { kind: string }[]): void; handedOut(queue: string, waitedMs: number): void } {
    return {
      sent: (priority, outcomes) => {
        const byKind = new Map<string, number>();
        for (const o of outcomes) byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
        for (const [outcome, n] of byKind) this.fcmSends.inc({ outcome, priority }, n);
      },
      handedOut: (priority, waitedMs) => this.schedulerWait.observe({ priority }, Math.max(0, waitedMs) / 1_000),
    };
  }

  /** A cache whose lookups /metrics reports: `read` gives its totals since start, by outcome. */
  addCache(name: string, read: () => Partial<Record<CacheOutcome, number>>): void {
    this.caches.set(name, read);
  }

  /** Stops the event-loop monitor (the node stopped). */
  close(): void {
    this.loopDelay.disable();
  }
}
