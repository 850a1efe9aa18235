// The Prometheus families this service exposes on /metrics, in one place: alert rules and dashboards are checked
// against this list (test/integration/metrics-families.test.ts proves every role's /metrics carries each one).
// Names fixed by issue 13 (Build 4); older families of src/metrics.ts keep their names and are listed too.

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricFamily {
  readonly name: string;
  readonly kind: MetricKind;
  readonly labels: readonly string[];
  /** Which roles expose it: 'all' (api, worker, all), or the roles that run the part it describes. */
  readonly roles: 'all' | 'api' | 'worker';
}

const family = (name: string, kind: MetricKind, labels: readonly string[] = [], roles: MetricFamily['roles'] = 'all'): MetricFamily => ({ name, kind, labels, roles });

/** Build 4 of issue 13: every role exposes each of these (a family a role does not feed stays at zero / empty). */
export const BUILD4_METRICS: readonly MetricFamily[] = [
  family('samaconso_http_request_duration_seconds', 'histogram', ['method', 'route', 'status']),
  family('nodejs_eventloop_lag_seconds', 'gauge'),
  family('nodejs_eventloop_lag_p99_seconds', 'gauge'),
  family('nodejs_eventloop_lag_max_seconds', 'gauge'),
  family('samaconso_queue_messages', 'gauge', ['queue']),
  family('samaconso_queue_consumers', 'gauge', ['queue']),
  family('samaconso_queue_paused', 'gauge', ['queue']),
  family('samaconso_fcm_sends_total', 'counter', ['outcome', 'priority']),
  family('samaconso_scheduler_wait_seconds', 'histogram', ['priority']),
  family('samaconso_fcm_pool_utilisation', 'gauge'),
  family('samaconso_actor_restarts_total', 'counter', ['actor']),
  family('samaconso_actor_crashes_total', 'counter', ['actor']),
  family('samaconso_source_circuit_state', 'gauge', ['source']),
  family('samaconso_cache_requests_total', 'counter', ['cache', 'outcome']),
  family('samaconso_outbox_backlog', 'gauge'),
  family('samaconso_outbox_oldest_age_seconds', 'gauge'),
  family('samaconso_login_failures_total', 'counter', ['kind'], 'api'),
  family('samaconso_session_checks_total', 'counter', ['outcome']),
];

/** Families that existed before issue 13 (src/metrics.ts); their names do not change. */
export const EARLIER_METRICS: readonly MetricFamily[] = [
  family('samaconso_actor_state', 'gauge', ['actor', 'kind', 'state']),
  family('samaconso_actor_mailbox_depth', 'gauge', ['actor', 'kind']),
  family('samaconso_actor_handled', 'gauge', ['actor', 'kind']),
  family('samaconso_actor_crashes', 'gauge', ['actor', 'kind']),
  family('samaconso_actor_restarts', 'gauge', ['actor', 'kind']),
  family('samaconso_dead_letters', 'gauge', ['reason']),
  // prom-client default metrics, prefixed (samaconso_process_cpu_seconds_total, samaconso_nodejs_heap_size_used_bytes, …)
  family('samaconso_nodejs_eventloop_lag_seconds', 'gauge'),
  family('samaconso_consumer_deliveries', 'gauge', ['queue', 'outcome'], 'worker'),
  family('samaconso_consumer_in_flight', 'gauge', ['queue'], 'worker'),
  family('samaconso_consumer_paused', 'gauge', ['queue'], 'worker'),
  family('samaconso_push_queued_tokens', 'gauge', ['queue'], 'worker'),
  family('samaconso_push_in_flight_batches', 'gauge', ['queue'], 'worker'),
  family('samaconso_push_handed_out_tokens', 'gauge', ['queue'], 'worker'),
  family('samaconso_push_waiting_batches', 'gauge', [], 'worker'),
  family('samaconso_fcm_outcomes', 'gauge', ['outcome'], 'worker'),
  family('samaconso_fcm_alerts', 'gauge', [], 'worker'),
  family('samaconso_fcm_sender_failures', 'gauge', [], 'worker'),
  family('samaconso_fcm_rate_pauses', 'gauge', [], 'worker'),
  family('samaconso_fcm_rate_limit_local', 'gauge', [], 'worker'),
  family('samaconso_sms_overall_sent_today', 'gauge', [], 'api'),
  family('samaconso_sms_overall_budget_ratio', 'gauge', [], 'api'),
  family('samaconso_sms_budget_refusals_total', 'counter', ['limit'], 'api'),
];

/** Circuit state of a source as samaconso_source_circuit_state reports it. */
export const CIRCUIT_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
