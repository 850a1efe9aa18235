// The Grafana dashboard (ops/deploy/grafana/samaconso.json) gets the alert rules' check: every panel reads only
// families src/metric-names.ts declares (the metric contract of the deploy tests), and promtool parses every
// expression (written out as recording rules, Grafana's $__rate_interval replaced by a real range).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DECLARED_FAMILIES, familyName, metricNamesIn } from '../support/deploy/metric-contract.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'samaconso-grafana-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Panel = { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { refId: string; expr: string }[] };
const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '../../ops/deploy/grafana/samaconso.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};
const graphs = dashboard.panels.filter((p) => p.type !== 'row');

/** The family a series name belongs to: a histogram's _bucket, _count and _sum series are its family's. */
const HISTOGRAMS = new Set([...DECLARED_FAMILIES.values()].filter((f) => f.kind === 'histogram').map((f) => f.name));
const familyOf = (series: string): string => familyName(series, HISTOGRAMS);

/** promtool check rules on the given expressions, each as a recording rule. */
async function promtoolParses(exprs: string[]): Promise<{ code: number; out: string }> {
  const file = join(scratch, `panels-${exprs.length}-${Date.now()}.yml`);
  const rules = exprs.map((expr, i) => ({ record: `dashboard:panel_expr_${i}`, expr: expr.replaceAll('$__rate_interval', '5m') }));
  writeFileSync(file, stringify({ groups: [{ name: 'grafana-panels', rules }] }));
  try {
    const { stdout, stderr } = await run('promtool', ['check', 'rules', file], { timeout: 60_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool is not installed: ops/services.sh start installs it (Debian prometheus)');
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('Grafana dashboard', () => {
  it('every panel reads only families /metrics exports, through the dashboard\'s Prometheus data source', () => {
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of graphs) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, `${panel.title} has no query`).toBeGreaterThan(0);
      for (const { expr } of panel.targets!) {
        const names = metricNamesIn(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const n of names) expect(DECLARED_FAMILIES.has(familyOf(n)), `${panel.title} reads ${n}`).toBe(true);
      }
    }
  });

  it('shows what on-call reads: queues, FCM outcomes, scheduler wait, event-loop lag, HTTP latency by route, circuits, outbox, restarts', () => {
    const read = new Set(graphs.flatMap((p) => p.targets!.flatMap((t) => metricNamesIn(t.expr).map(familyOf))));
    for (const family of [
      'samaconso_queue_messages',
      'samaconso_queue_consumers',
      'samaconso_queue_paused',
      'samaconso_fcm_sends_total',
      'samaconso_scheduler_wait_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'samaconso_http_request_duration_seconds',
      'samaconso_source_circuit_state',
      'samaconso_outbox_backlog',
      'samaconso_actor_restarts_total',
    ]) {
      expect(read, `no panel reads ${family}`).toContain(family);
    }
    const byRoute = graphs.flatMap((p) => p.targets!).find((t) => t.expr.includes('samaconso_http_request_duration_seconds_bucket'));
    expect(byRoute?.expr).toMatch(/by \(le, route\)/);
    const fcm = graphs.flatMap((p) => p.targets!).find((t) => t.expr.includes('samaconso_fcm_sends_total'));
    expect(fcm?.expr).toMatch(/by \(outcome\)/);
  });

  it('promtool parses every panel expression, and rejects a broken one (the check is real)', async () => {
    const exprs = graphs.flatMap((p) => p.targets!.map((t) => t.expr));
    const checked = await promtoolParses(exprs);
    expect(checked, checked.out).toMatchObject({ code: 0 });
    expect(checked.out).toContain(`SUCCESS: ${exprs.length} rules found`);
    const broken = await promtoolParses([...exprs, 'sum by (queue (samaconso_queue_messages)']);
    expect(broken.code).not.toBe(0);
  });
});
