// The metric families the deployment files (alert rules, Grafana) rely on: each must be exported on /metrics.
/** Families every alert rule may use; a rule naming anything else fails test/integration/deploy-tools.test.ts. */
export const EXPORTED_FAMILIES = [
  'samaconso_http_request_duration_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'samaconso_queue_messages',
  'samaconso_queue_consumers',
  'samaconso_queue_paused',
  'samaconso_fcm_sends_total',
  'samaconso_scheduler_wait_seconds',
  'samaconso_fcm_pool_utilisation',
  'samaconso_actor_restarts_total',
  'samaconso_actor_crashes_total',
  'samaconso_source_circuit_state',
  'samaconso_cache_requests_total',
  'samaconso_outbox_backlog',
  'samaconso_outbox_oldest_age_seconds',
  'samaconso_login_failures_total',
  'samaconso_session_checks_total',
] as const;

/** Metric names a PromQL expression reads (ours and Node's), without functions, keywords or label names. */
export function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '');
  return [...new Set(withoutStrings.match(/\b(?:samaconso|nodejs|process)_[a-z0-9_]+\b/g) ?? [])];
}
