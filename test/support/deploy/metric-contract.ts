// What the deployment files (alert rules, Grafana) read of /metrics, checked against the one list of families
// (src/metric-names.ts) and a real scrape: no hand copy of the names here to drift from the code.
import { BUILD4_METRICS, EARLIER_METRICS, type MetricFamily } from '../../../src/metric-names.js';

/** Every family src/metric-names.ts declares, by name. */
export const DECLARED_FAMILIES: ReadonlyMap<string, MetricFamily> = new Map([...BUILD4_METRICS, ...EARLIER_METRICS].map((f) => [f.name, f]));

/** A metric name as PromQL reads it (`x_bucket`, `x_sum`, `x_count` of a histogram `x`) → the family it belongs to. */
export function familyName(series: string, histograms: ReadonlySet<string>): string {
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return base !== series && histograms.has(base) ? base : series;
}

/** Metric names a PromQL expression reads (ours and Node's), without functions, keywords or label names. */
export function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '');
  return [...new Set(withoutStrings.match(/\b(?:samaconso|nodejs|process)_[a-z0-9_]+\b/g) ?? [])];
}

/** The label names a PromQL expression matches on, per metric name (`x{outcome!="sent"}` → x: [outcome]). */
export function matchedLabelsIn(expr: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of expr.matchAll(/\b((?:samaconso|nodejs|process)_[a-z0-9_]+)\{([^}]*)\}/g)) {
    const labels = [...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!);
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), ...labels]);
  }
  return out;
}
