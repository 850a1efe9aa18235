// The deployment files (ops/deploy) checked by the tools production uses: promtool on the Prometheus config and the
// alert rules (with the rules' own unit tests), amtool on the Alertmanager routing, systemd-analyze on the units.
// ops/services/install.sh installs promtool, amtool and systemd-analyze (Debian's prometheus, prometheus-alertmanager,
// systemd). The metrics the alerts read are checked against src/metric-names.ts and a real node's /metrics (no hand
// list of names).
// Shown failing (applied locally to alerts.yml, run, reverted): `samaconso_outbox_age_seconds` for
// `samaconso_outbox_oldest_age_seconds` → "OutboxBacklog reads samaconso_outbox_age_seconds: not a family of
// src/metric-names.ts"; `{result!="sent"}` for `{outcome!="sent"}` → "FcmFailureRatioHigh matches
// samaconso_fcm_sends_total on label result".
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunningNode } from '../../src/node.js';
import { DECLARED_FAMILIES, familyName, matchedLabelsIn, metricNamesIn } from '../support/deploy/metric-contract.js';
import { startFcmWorld, type FcmWorld } from '../support/dispatch.js';
import { startTestNode } from '../support/node.js';
import { scrape, type Family } from '../support/prometheus-text.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const DEPLOY = join(import.meta.dirname, '../../ops/deploy');
const scratch = mkdtempSync(join(tmpdir(), 'samaconso-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a tool to completion; its exit status and both outputs, so a failure's message is in the assertion. */
async function tool(file: string, args: string[], cwd = DEPLOY): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, timeout: 60_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${file} is not installed: ops/services.sh start installs it (Debian packages)`);
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

type Rule = { alert: string; expr: string; annotations: { runbook: string } };
const rules = (): Rule[] =>
  (parse(readFileSync(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('Prometheus', () => {
  it('promtool accepts the scrape config and the alert rules', async () => {
    expect(await tool('promtool', ['check', 'config', 'prometheus/prometheus.yml'])).toMatchObject({ code: 0 });
    const checked = await tool('promtool', ['check', 'rules', 'prometheus/alerts.yml']);
    expect(checked, checked.out).toMatchObject({ code: 0 });
    expect(checked.out).toContain(`SUCCESS: ${rules().length} rules found`);
  });

  it("the alert rules pass their own unit tests (promtool test rules: each alert fires on its condition, and only then)", async () => {
    const tested = await tool('promtool', ['test', 'rules', 'prometheus/alerts.test.yml']);
    expect(tested, tested.out).toMatchObject({ code: 0 });
    const tests = readFileSync(join(DEPLOY, 'prometheus/alerts.test.yml'), 'utf8');
    for (const r of rules()) expect(tests, `no promtool test for ${r.alert}`).toContain(`alertname: ${r.alert}`);
  });

  it('promtool test rules fails when an alert no longer fires on its condition (the unit tests can fail)', async () => {
    const dir = mkdtempSync(join(scratch, 'broken-'));
    cpSync(join(DEPLOY, 'prometheus'), dir, { recursive: true });
    const alerts = readFileSync(join(dir, 'alerts.yml'), 'utf8').replace('max by (source) (samaconso_source_circuit_state) == 2', 'max by (source) (samaconso_source_circuit_state) == 3');
    writeFileSync(join(dir, 'alerts.yml'), alerts);
    const tested = await tool('promtool', ['test', 'rules', 'alerts.test.yml'], dir);
    expect(tested.code).not.toBe(0);
    expect(tested.out).toContain('SourceCircuitOpen');
  });

  it('every alert names its runbook entry', () => {
    const runbook = readFileSync(join(DEPLOY, '../RUNBOOK.md'), 'utf8');
    for (const r of rules()) {
      expect(r.annotations.runbook).toBe(`ops/RUNBOOK.md#${r.alert.toLowerCase()}`);
      expect(runbook, `RUNBOOK.md has no section for ${r.alert}`).toMatch(new RegExp(`^## ${r.alert}$`, 'm'));
    }
  });
});

// The families the alerts read, against the code's list (src/metric-names.ts) and a real /metrics: a node of role
// `all` (api and worker parts) on the real PostgreSQL, RabbitMQ and Redis, scraped once.
describe('the metrics the alert rules read', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let world: FcmWorld;
  let node: RunningNode | undefined;
  let scraped: Map<string, Family>;
  beforeAll(async () => {
    db = await createTestDatabase();
    vhost = await createTestVhost();
    world = await startFcmWorld();
    node = await startTestNode({ ROLE: 'all', DATABASE_URL: db.url, AMQP_URL: vhost.url, REDIS_URL: servicesEnv().TEST_REDIS_URL, ...world.env });
    await waitFor('the node ready', () => node!.runtime.readiness('test').ready, 30_000);
    scraped = await scrape(node.opsUrl);
  }, 90_000);
  afterAll(async () => {
    await node?.stop();
    await world?.close();
    await vhost?.delete();
    await db?.drop();
  });

  it('every metric an alert reads is a family of src/metric-names.ts, exported by a real /metrics with that type, and matched only on its labels', () => {
    const histograms = new Set([...DECLARED_FAMILIES.values()].filter((f) => f.kind === 'histogram').map((f) => f.name));
    const covered = new Set<string>();
    for (const r of rules()) {
      const names = metricNamesIn(r.expr);
      expect(names.length, `${r.alert} reads no metric`).toBeGreaterThan(0);
      for (const series of names) {
        const name = familyName(series, histograms);
        const declared = DECLARED_FAMILIES.get(name);
        expect(declared, `${r.alert} reads ${series}: not a family of src/metric-names.ts`).toBeDefined();
        expect(scraped.get(name)?.type, `${r.alert} reads ${series}: /metrics of a role-all node has no ${declared!.kind} ${name}`).toBe(declared!.kind);
        covered.add(name);
      }
      for (const [series, labels] of matchedLabelsIn(r.expr)) {
        const declared = DECLARED_FAMILIES.get(familyName(series, histograms))!;
        for (const l of labels) expect([...declared.labels, 'le'], `${r.alert} matches ${series} on label ${l}`).toContain(l);
      }
    }
    expect(covered.size).toBeGreaterThanOrEqual(8);
  });

  it('the check can fail: a family the code does not declare, or a label it does not carry, is caught', () => {
    const histograms = new Set(['samaconso_http_request_duration_seconds']);
    expect(DECLARED_FAMILIES.has(familyName(metricNamesIn('rate(samaconso_fcm_send_total[5m])')[0]!, histograms))).toBe(false);
    expect(familyName('samaconso_http_request_duration_seconds_bucket', histograms)).toBe('samaconso_http_request_duration_seconds');
    expect(scraped.has('samaconso_fcm_send_total')).toBe(false);
    const [[series, labels]] = [...matchedLabelsIn('sum(rate(samaconso_fcm_sends_total{result!="sent"}[10m]))')] as [[string, string[]]];
    expect(DECLARED_FAMILIES.get(series)!.labels).not.toContain(labels[0]);
  });
});

describe('Alertmanager', () => {
  it('amtool accepts the routing', async () => {
    const checked = await tool('amtool', ['check-config', 'alertmanager/alertmanager.yml']);
    expect(checked, checked.out).toMatchObject({ code: 0 });
  });

  it('critical alerts page the on-call engineer and reach the ops channel; warnings reach the channel only', async () => {
    const route = async (...labels: string[]) =>
      (await tool('amtool', ['config', 'routes', 'test', '--config.file=alertmanager/alertmanager.yml', ...labels])).out.split('\n').find((l) => !l.startsWith('Warning'))!.trim();
    expect(await route('severity=critical', 'alertname=QueueWithoutConsumer')).toBe('on-call,ops-channel');
    expect(await route('severity=warning', 'alertname=RestartStorm')).toBe('ops-channel');
  });
});

describe('systemd units', () => {
  const units = readdirSync(join(DEPLOY, 'systemd')).filter((f) => f.endsWith('.service'));
  const timers = readdirSync(join(DEPLOY, 'systemd')).filter((f) => f.endsWith('.timer'));

  it('systemd-analyze verify accepts every unit and timer, templates instantiated as deployed (no warning either)', async () => {
    expect(timers).toContain('samaconso-pg-backup.timer');
    const dir = mkdtempSync(join(scratch, 'units-'));
    cpSync(join(DEPLOY, 'systemd'), dir, { recursive: true });
    const instances = [...units, ...timers].map((u) => (u.endsWith('@.service') ? u.replace('@.service', '@blue.service') : u));
    const verified = await tool('systemd-analyze', ['verify', '--man=no', ...instances.map((u) => `./${u}`)], dir);
    expect(verified, verified.out).toEqual({ code: 0, out: '' });
  });

  it('systemd-analyze verify rejects a unit that names a missing program (the check is real)', async () => {
    const dir = mkdtempSync(join(scratch, 'bad-unit-'));
    writeFileSync(join(dir, 'broken.service'), readFileSync(join(DEPLOY, 'systemd/samaconso-worker.service'), 'utf8').replace('/usr/bin/node ', '/usr/bin/no-such-node '));
    const verified = await tool('systemd-analyze', ['verify', '--man=no', './broken.service'], dir);
    expect(verified.code).not.toBe(0);
    expect(verified.out).toContain('no-such-node');
  });

  it("systemd-analyze verify accepts the RabbitMQ nodes' global-sync watchdog, its service and timer", async () => {
    const dir = mkdtempSync(join(scratch, 'rabbit-units-'));
    const units = ['rabbitmq-global-sync-watchdog.service', 'rabbitmq-global-sync-watchdog.timer'];
    for (const u of units) cpSync(join(DEPLOY, 'rabbitmq', u), join(dir, u));
    const verified = await tool('systemd-analyze', ['verify', '--man=no', ...units.map((u) => `./${u}`)], dir);
    expect(verified, verified.out).toEqual({ code: 0, out: '' });
  });

  // systemd-analyze verify accepts a timer whose service is missing (tried): each timer's service is checked here.
  it('every timer starts a service of the folder', () => {
    for (const t of timers) expect(units, `${t} has no service`).toContain(t.replace(/\.timer$/, '.service'));
  });

  // The backup runs on the database host as postgres (peer login); every other unit as the dedicated samaconso user.
  it('every unit runs as its user, hardened; the backup writes only its folder', () => {
    const users: Record<string, string> = { 'samaconso-pg-backup.service': 'postgres' };
    for (const u of units) {
      const text = readFileSync(join(DEPLOY, 'systemd', u), 'utf8');
      for (const line of [`User=${users[u] ?? 'samaconso'}$`, 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet=']) {
        expect(text, `${u} lacks ${line}`).toMatch(new RegExp(`^${line}`, 'm'));
      }
    }
    const backup = readFileSync(join(DEPLOY, 'systemd/samaconso-pg-backup.service'), 'utf8');
    const dir = /^Environment=BACKUP_DIR=(\S+)/m.exec(backup)?.[1];
    expect(dir).toBe('/var/backups/samaconso');
    expect(backup).toMatch(new RegExp(`^ReadWritePaths=${dir}$`, 'm'));
    // As User=postgres it would remove the running server's shared memory when the backup stops.
    expect(backup).not.toMatch(/^RemoveIPC=/m);
  });
});

describe('HAProxy', () => {
  // The file holds environment references with production defaults; the admin socket's folder must exist to check.
  const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, HAPROXY_ADMIN_SOCKET: join(scratch, 'haproxy.sock'), ...extra });
  const check = async (file: string, extra?: Record<string, string>) => {
    try {
      const { stdout, stderr } = await run('haproxy', ['-c', '-f', file], { env: env(extra), timeout: 30_000 });
      return { code: 0, out: `${stdout}${stderr}` };
    } catch (error) {
      const e = error as { code?: number | string; stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') throw new Error('haproxy is not installed: ops/services.sh start installs it (Debian packages)');
      return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };

  it('haproxy -c accepts the load balancer config with its production defaults', async () => {
    const checked = await check(join(DEPLOY, 'haproxy/haproxy.cfg'));
    expect(checked, checked.out).toMatchObject({ code: 0 });
    expect(checked.out).toContain('Configuration file is valid');
  });

  it('haproxy -c rejects a broken config (the check is real), and the health check reads /health/ready', async () => {
    const text = readFileSync(join(DEPLOY, 'haproxy/haproxy.cfg'), 'utf8');
    expect(text).toMatch(/^\s*option httpchk GET \/health\/ready$/m);
    const broken = join(scratch, 'broken-haproxy.cfg');
    writeFileSync(broken, text.replace('balance leastconn', 'balance no-such-algorithm'));
    const checked = await check(broken);
    expect(checked.code).not.toBe(0);
    expect(checked.out).toContain('balance only supports');
  });
});
