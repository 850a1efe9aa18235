// Benchmark: push dispatch end to end, against a plain firebase-admin loop and a BullMQ pipeline, on ONE fake FCM
// (test/support/fcm: HTTP/1.1 + HTTP/2 on one port, real TLS with the test CA, record: 'counts'), in one run:
//
//   1. product e2e   POST /v1/notifications (one agency job, N devices) → job + outbox row in PostgreSQL → relay →
//                    RabbitMQ quorum queue → worker consumer → fan-out into push batches → push scheduler → FCM
//                    pool (piscina threads, firebase-admin) → fake FCM. Timed from the POST to the fake having
//                    answered every token. The API node and the worker node are each their own process (from the
//                    sources, `node --import tsx src/main.ts --role …`, as test/support/worker-process.ts starts
//                    them). Variants: the product's default transport (FCM_TRANSPORT=http2-session) through the
//                    CONNECT proxy (as in production behind the utility's proxy) and direct (no FCM_PROXY_URL: the
//                    worker dials fcm.googleapis.com:443 itself; bench/dispatch/direct-preload.mjs stands in for
//                    DNS in that process and its pool threads, see there), and the same for http1 and http2 (sendEach).
//   2. plain loop    firebase-admin alone in a child process, the same N messages, in its two best configurations
//                    (FACTS.md): sendEach(500) over HTTP/2 with --h2-in-flight batches in flight (the `:scheme`
//                    fix of test/support/fcm/redirect-http2.ts), and send() over HTTP/1.1 on a keep-alive agent
//                    (64 sockets, 200 in flight). The better of the two is "the plain loop".
//   3. BullMQ        a child process: jobs of 500 tokens added with addBulk, a Worker (concurrency 4) calling
//                    sendEach(500) per job (HTTP/2, same fix). Redis from .services/env, a private key prefix.
//   4. urgent        accept → FCM answer of one urgent device ('outage', single-user jobs posted one at a time),
//                    with the system idle and while a low-priority backlog ('planned_works', N devices) drains.
//                    The fake runs in this process and timestamps each urgent token when it answers it, on the
//                    same clock (performance.now()) as the POST.
//   5. peak RSS      VmHWM of every process (worker nodes, API node, proxy, plain/BullMQ children, this one).
//   6. results       "## dispatch" in bench/RESULTS.md (bench/results-file.ts) and the chart bench/dispatch.svg.
//
// With --memory, none of that: the worker's memory during one broadcast to all N devices (bench/dispatch/memory.ts;
// --devices=1000000 for the issue's run), for the default variant (or --variants), with the product's settings and
// then with --memory-compare's worker settings; "## dispatch memory" in bench/RESULTS.md. The N devices are seeded
// inside PostgreSQL in one statement (seedAgency): no row crosses the wire and none is held here.
//
// With --workers=N, none of that either: the broadcast to all N devices sent by one worker process and by N worker
// processes side by side, in one run (bench/dispatch/workers.ts); "## dispatch workers" in bench/RESULTS.md.
//
// Every phase reports the CPU each process group used (/proc: this process = fake FCM + orchestration, proxy, API,
// worker, RabbitMQ, PostgreSQL, Redis, other) so a missed goal can be explained.
//
//   npm run bench:dispatch -- [--devices=100000] [--backlog=<devices>] [--urgent=50] [--urgent-gap-ms=100]
//                             [--h2-in-flight=3] [--warmup=1000] [--variants=proxy-http2-session,direct-http2-session,proxy-http1,direct-http1,direct-http2]
//                             [--quiet-wait=45] [--quiet-cores=0.3] [--noisy-cores=0.3] [--attempts=3]
//                             [--worker-env=K=V,…] [--api-env=K=V,…] [--no-write] [--section=dispatch]
//   npm run bench:dispatch -- --memory --devices=1000000 [--memory-compare=K=V,…] [--memory-interval-ms=250]
//                             [--memory-idle-s=10] [--memory-after-s=15] [--variants=…]
//   npm run bench:dispatch -- --workers=2 [--rounds=1] [--devices=100000] [--attempts=3] [--quiet-wait=45] [--worker-env=…]
//
// Everything it creates (database, vhost, Redis keys, child processes, temp files) is removed at the end, also on
// Ctrl-C. Not part of `npm test`.
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/adapters/postgres/migrate.js';
import { buildFcmMessage, type FcmMessage, type FcmNotification } from '../src/adapters/fcm/fcm-message.js';
import { adminToken, postJob, seedCustomers, serviceAccountFile } from '../test/support/dispatch.js';
import { startConnectProxy } from '../test/support/fcm/connect-proxy.js';
import { startFakeFcm, type FakeFcm } from '../test/support/fcm/fake-fcm-server.js';
import { redirectFcmHttp2 } from '../test/support/fcm/redirect-http2.js';
import { loadServicesSettings, TEMPLATE_DATABASE, toServicesEnv, type ServicesEnv } from '../test/support/services-env.js';
import { TEST_JWKS, TEST_SIGNING_JWK } from '../test/support/tokens.js';
import { startNodeProcess, type NodeProcess } from '../test/support/worker-process.js';
import { fmtMs, machineJiffies, option, sleep, textOption } from './bench-support.js';
import { MemoryRecorder, memoryTables, type MemoryRun } from './dispatch/memory.js';
import { runWorkersComparison, workersSection } from './dispatch/workers.js';
import { writeResultsSection } from './results-file.js';

// ---------------------------------------------------------------------------------------------------------------
// Options

const flag = (name: string): boolean => process.argv.includes(`--${name}`);

/** The product's default: FCM_TRANSPORT's default (src/config.ts) through the utility's proxy. */
const DEFAULT_VARIANT = 'proxy-http2-session';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(import.meta.url);
const BATCH = 500;
const PLAIN_H1_SOCKETS = 64;
const PLAIN_H1_IN_FLIGHT = 200;
const BULLMQ_CONCURRENCY = 4;
const BENCH_PROJECT = 'samaconso-bench';
const CLK_TCK = 100;
/** The issue's goal for --memory: RSS growth during the broadcast over the idle worker. */
const MEMORY_GOAL_MB = 150;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const mb = (kb: number | undefined): string => (kb === undefined ? '—' : (kb / 1024).toFixed(0));
const errText = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e));

function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]! : NaN;
}

/** Peak resident set (VmHWM, kB) of a live process; undefined when it is gone or off Linux. */
function vmHwm(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const credential = { getAccessToken: async () => ({ access_token: 'bench-access-token', expires_in: 3600 }) };
/** What the product sends for the e2e job (type monthly_summary: normal queue), rebuilt for the plain loops. */
const E2E_JOB = { type: 'monthly_summary', title: 'Résumé mensuel', body: 'Votre consommation du mois est disponible dans l’application.' };
const plainNotification: FcmNotification = {
  jobId: '0b5e1c1e-5d4f-4a43-9d1f-7a8c3e2b9f10',
  queue: 'normal',
  type: { code: 'monthly_summary', ttlSeconds: 259_200, collapseKey: 'monthly_summary' },
  title: E2E_JOB.title,
  body: E2E_JOB.body,
};

// ---------------------------------------------------------------------------------------------------------------
// CPU per process group, from /proc (every thread of a process is in its stat line).

type Groups = Map<number, string>;
type ProcSample = Map<number, { comm: string; ticks: number }>;

function procSample(): ProcSample {
  const out: ProcSample = new Map();
  let dirs: string[];
  try {
    dirs = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const d of dirs) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const comm = s.slice(s.indexOf('(') + 1, close);
      const f = s.slice(close + 2).split(' ');
      out.set(Number(d), { comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function groupOf(pid: number, comm: string, groups: Groups): string | undefined {
  const g = groups.get(pid);
  if (g) return g;
  if (comm === 'beam.smp') return 'RabbitMQ';
  if (comm === 'postgres') return 'PostgreSQL';
  if (comm === 'redis-server') return 'Redis';
  return undefined;
}

interface CpuSplit {
  seconds: number;
  /** cores' worth per group over the window; 'other' = the machine's busy time minus every named group */
  cores: Record<string, number>;
}

/**
 * CPU per process group over a window: this run's processes by pid, the services by name (they are shared: other
 * work on the machine may use them too), and 'other' = whatever else kept the machine busy (/proc/stat).
 */
function cpuMeter(groups: Groups): () => CpuSplit {
  // The worker node's main thread on its own (consumers, scheduler, fan-out, database): the rest of that process is
  // its FCM pool threads plus V8/libuv helper threads.
  const workerPids = [...groups].filter(([, g]) => g === 'worker node').map(([pid]) => pid);
  const mainTicks = (): Map<number, number> => {
    const m = new Map<number, number>();
    for (const pid of workerPids) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        m.set(pid, Number(f[11]) + Number(f[12]));
      } catch {
        // gone
      }
    }
    return m;
  };
  const a = procSample();
  const ta = mainTicks();
  const ma = machineJiffies();
  const t0 = performance.now();
  return () => {
    const b = procSample();
    const tb = mainTicks();
    const mb2 = machineJiffies();
    const seconds = (performance.now() - t0) / 1000;
    const cores: Record<string, number> = {};
    let named = 0;
    for (const [pid, { comm, ticks }] of b) {
      const g = groupOf(pid, comm, groups);
      if (!g) continue;
      const before = a.get(pid);
      const delta = before ? ticks - before.ticks : ticks;
      if (delta <= 0) continue;
      cores[g] = (cores[g] ?? 0) + delta / CLK_TCK / seconds;
      named += delta;
    }
    if (ma && mb2 && mb2.total > ma.total) {
      const ncpu = os.cpus().length;
      const machineCores = ((mb2.busy - ma.busy) / (mb2.total - ma.total)) * ncpu;
      cores['other'] = Math.max(0, machineCores - named / CLK_TCK / seconds);
    }
    for (const [pid, ticks] of tb) {
      const before = ta.get(pid);
      if (before !== undefined) cores['worker node main thread'] = (cores['worker node main thread'] ?? 0) + (ticks - before) / CLK_TCK / seconds;
    }
    return { seconds, cores };
  };
}

/** Waits (at most maxSeconds) until processes outside this run use less than maxCores for 2 s in a row. */
async function waitForQuiet(groups: Groups, maxCores: number, maxSeconds: number): Promise<number | undefined> {
  const until = performance.now() + maxSeconds * 1000;
  let calm = 0;
  let announced = -Infinity;
  for (;;) {
    const m = cpuMeter(groups);
    await sleep(1_000);
    const others = m().cores['other'];
    if (others === undefined) return undefined;
    calm = others < maxCores ? calm + 1 : 0;
    if (calm >= 2) return others;
    if (performance.now() > until) {
      console.log(`  machine still busy (other processes use ${others.toFixed(2)} cores); measuring anyway`);
      return others;
    }
    if (performance.now() - announced >= 5_000) {
      console.log(`  waiting for a quiet machine: other processes use ${others.toFixed(2)} cores`);
      announced = performance.now();
    }
  }
}

const fmtStages = (x: StageTimes): string => `accept ${fmtMs(x.accept)}, relay ${fmtMs(x.relay)}, fan-out ${fmtMs(x.fanOut)}, push ${fmtMs(x.push)}`;
const fmtSplit = (s: CpuSplit): string =>
  Object.entries(s.cores)
    .filter(([g, c]) => c >= 0.01 && g !== 'worker node main thread')
    .map(([g, c]): [string, number] => [g === 'worker node' && s.cores['worker node main thread'] !== undefined ? `worker node (main thread ${s.cores['worker node main thread'].toFixed(2)})` : g, c])
    .sort((x, y) => y[1] - x[1])
    .map(([g, c]) => `${g} ${c.toFixed(2)}`)
    .join(', ');

// ---------------------------------------------------------------------------------------------------------------
// Child processes of this script (proxy, plain loops, BullMQ): `bench/dispatch.ts --child=<role>`, over IPC.

type ChildRole = 'proxy' | 'plain-h2' | 'plain-h1' | 'bullmq';

interface ChildRun {
  messages: number;
  port: number;
  ca: string;
  h2InFlight: number;
  warmup: number;
  redisUrl?: string;
  prefix?: string;
}

interface ChildResult {
  sent: number;
  failed: number;
  seconds: number;
  firstFailure?: string;
  peakRssKb: number;
}

/** Sends `total` messages as units of `unit`, `concurrency` units at once; returns how many succeeded. */
async function drive(label: string, prefix: string, total: number, unit: number, concurrency: number, send: (m: FcmMessage[]) => Promise<number>, progress: boolean): Promise<number> {
  let next = 0;
  let sent = 0;
  let reported = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const from = next;
      next = Math.min(total, next + unit);
      const messages: FcmMessage[] = [];
      for (let i = from; i < next; i++) messages.push(buildFcmMessage(`${prefix}-${i}`, plainNotification));
      const done = await send(messages);
      sent += done;
      if (progress && sent - reported >= 20_000) {
        reported = sent - (sent % 20_000);
        process.send?.({ progress: `${label}: ${fmt(sent)}/${fmt(total)} (${fmt(sent / ((performance.now() - t0) / 1000))} msg/s)` });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return sent;
}

async function childMain(role: ChildRole): Promise<void> {
  if (role === 'proxy') {
    const targetPort = Number(textOption('target-port'));
    const proxy = await startConnectProxy({ target: { host: '127.0.0.1', port: targetPort } });
    process.on('message', (m: { cmd?: string }) => {
      if (m.cmd === 'stats') process.send?.({ tunnels: proxy.tunnels() });
      if (m.cmd === 'stop') void proxy.close().then(() => process.exit(0));
    });
    process.send?.({ ready: { port: proxy.port } });
    return;
  }
  process.send?.({ ready: {} });
  const run = await new Promise<ChildRun>((resolve) => process.once('message', (m: { cmd: 'run'; run: ChildRun }) => resolve(m.run)));
  let failed = 0;
  let firstFailure: string | undefined;
  const cleanups: Array<() => unknown> = [];
  let seconds = 0;
  let sent = 0;
  try {
    if (role === 'plain-h2' || role === 'bullmq') {
      const redirect = redirectFcmHttp2({ port: run.port, ca: run.ca });
      cleanups.push(() => redirect.restore());
    }
    const h1Agent = (): https.Agent => {
      // The trust list as a secure context (not `ca`, which https.Agent joins into its pool key on every request).
      const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, run.ca] });
      const agent = new https.Agent({ keepAlive: true, maxSockets: PLAIN_H1_SOCKETS, secureContext });
      (agent as unknown as { createConnection: (o: tls.ConnectionOptions) => unknown }).createConnection = (o) =>
        tls.connect({ ...o, host: '127.0.0.1', port: run.port, servername: o.servername ?? o.host ?? undefined });
      cleanups.push(() => agent.destroy());
      return agent;
    };
    const app = initializeApp({ credential, projectId: BENCH_PROJECT, ...(role === 'plain-h1' ? { httpAgent: h1Agent() } : {}) }, `bench-${role}`);
    cleanups.push(() => deleteApp(app));
    const messaging = getMessaging(app);
    const sendEach = async (messages: FcmMessage[]): Promise<number> => {
      const batch = await messaging.sendEach(messages);
      failed += batch.failureCount;
      const bad = batch.responses.find((r) => !r.success);
      if (bad) firstFailure ??= `${bad.error?.code}: ${bad.error?.message}`;
      return batch.successCount;
    };
    const sendOne = async (messages: FcmMessage[]): Promise<number> => {
      try {
        await messaging.send(messages[0]!);
        return 1;
      } catch (e) {
        failed++;
        firstFailure ??= String(e);
        return 0;
      }
    };

    if (role === 'plain-h2' || role === 'plain-h1') {
      const [unit, concurrency, send] = role === 'plain-h2' ? [BATCH, run.h2InFlight, sendEach] : [1, PLAIN_H1_IN_FLIGHT, sendOne];
      await drive(`${role} warm-up`, 'warm', run.warmup, unit, concurrency, send, false);
      process.send?.({ warmedUp: true });
      await new Promise<void>((resolve) => process.once('message', () => resolve()));
      const t0 = performance.now();
      sent = await drive(role, `${role}`, run.messages, unit, concurrency, send, true);
      seconds = (performance.now() - t0) / 1000;
    } else {
      // BullMQ: a queue of jobs of 500 tokens, a worker (concurrency 4) calling sendEach(500) per job.
      const url = new URL(run.redisUrl!);
      const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
      const name = 'push';
      const queue = new Queue(name, { connection, prefix: run.prefix! });
      cleanups.push(async () => {
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      });
      let completed = 0;
      let expected = 0;
      let onAll: (() => void) | undefined;
      const worker = new Worker<{ tokens: string[] }, number>(
        name,
        async (job) => sendEach(job.data.tokens.map((t) => buildFcmMessage(t, plainNotification))),
        { connection, prefix: run.prefix!, concurrency: BULLMQ_CONCURRENCY },
      );
      cleanups.push(() => worker.close());
      worker.on('completed', (_job, n) => {
        sent += n;
        completed++;
        if (completed === expected) onAll?.();
      });
      worker.on('failed', (_job, e) => {
        firstFailure ??= String(e);
      });
      await worker.waitUntilReady();
      const addAll = async (prefix: string, total: number): Promise<void> => {
        const jobs: Array<{ name: string; data: { tokens: string[] }; opts: { removeOnComplete: boolean; removeOnFail: boolean } }> = [];
        for (let i = 0; i < total; i += BATCH) {
          const tokens: string[] = [];
          for (let k = i; k < Math.min(total, i + BATCH); k++) tokens.push(`${prefix}-${k}`);
          jobs.push({ name: 'batch', data: { tokens }, opts: { removeOnComplete: true, removeOnFail: true } });
        }
        const done = new Promise<void>((resolve) => (onAll = resolve));
        completed = 0;
        expected = jobs.length;
        await queue.addBulk(jobs);
        await done;
      };
      await addAll('bwarm', run.warmup);
      sent = 0;
      process.send?.({ warmedUp: true });
      await new Promise<void>((resolve) => process.once('message', () => resolve()));
      const t0 = performance.now();
      await addAll('bullmq', run.messages);
      seconds = (performance.now() - t0) / 1000;
    }
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
  const result: ChildResult = { sent, failed, seconds, peakRssKb: vmHwm(process.pid) ?? process.resourceUsage().maxRSS, ...(firstFailure ? { firstFailure } : {}) };
  process.send?.({ result }, undefined, {}, () => process.exit(0));
}

/** A forked child of this script, with its messages as a queue. */
class Child {
  private readonly inbox: Array<Record<string, unknown>> = [];
  private readonly waiters: Array<(m: Record<string, unknown>) => void> = [];
  readonly exited: Promise<void>;

  constructor(readonly role: ChildRole, readonly proc: ChildProcess) {
    proc.on('message', (m: Record<string, unknown>) => {
      if (typeof m.progress === 'string') return console.log(`    ${m.progress}`);
      const w = this.waiters.shift();
      if (w) w(m);
      else this.inbox.push(m);
    });
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  next(timeoutMs = 600_000): Promise<Record<string, unknown>> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.role}: no message within ${timeoutMs} ms`)), timeoutMs);
      const onExit = () => reject(new Error(`${this.role} child exited (code ${this.proc.exitCode})`));
      this.proc.once('exit', onExit);
      this.waiters.push((msg) => {
        clearTimeout(timer);
        this.proc.off('exit', onExit);
        resolve(msg);
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The orchestrator

interface Variant {
  key: string;
  label: string;
  path: 'proxy' | 'direct';
  transport: string;
  env: Record<string, string>;
}

interface E2eResult {
  variant: Variant;
  attempts: number;
  tokens: number;
  seconds: number;
  rate: number;
  settledSeconds: number;
  cpu: CpuSplit;
  workerHwmKb: number | undefined;
  apiHwmKb: number | undefined;
  failedNote?: string;
}

interface SubjectResult {
  key: string;
  /** attempts made; the one kept is the least disturbed */
  attempts: number;
  label: string;
  sent: number;
  seconds: number;
  rate: number;
  cpu: CpuSplit;
  peakRssKb: number;
  firstFailure?: string;
}

interface UrgentResult {
  idle: number[];
  backlog: number[];
  /** urgent sends answered while low-priority tokens were still outstanding */
  duringBacklog: number;
  backlogTokens: number;
  backlogSeconds: number;
  backlogRate: number;
  cpuIdle: CpuSplit;
  cpuBacklog: CpuSplit;
  stagesIdle: Stages;
  stagesBacklog: Stages;
}

/** ms in each stage of the urgent path, from the rows the product writes and the fake's answer time. */
interface StageTimes {
  accept: number;
  relay: number;
  fanOut: number;
  push: number;
}
interface Stages {
  /** means (they add up to the mean total) */
  mean: StageTimes;
  /** the slowest job's */
  slowest: StageTimes;
  n: number;
}

const cleanups: Array<{ what: string; run: () => Promise<unknown> | unknown }> = [];
let cleaning: Promise<void> | undefined;
function runCleanups(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c.run();
      } catch (e) {
        console.error(`  cleanup (${c.what}) failed: ${errText(e)}`);
      }
    }
  })());
}

function rabbitmqctl(env: ServicesEnv, args: readonly string[]): Promise<string> {
  const ctl = existsSync('/usr/lib/rabbitmq/bin/rabbitmqctl') ? '/usr/lib/rabbitmq/bin/rabbitmqctl' : 'rabbitmqctl';
  const home = join(env.TEST_SERVICES_DIR ?? join(ROOT, '.services'), 'rabbitmq');
  return new Promise((resolve, reject) => {
    execFile(ctl, ['-n', env.TEST_RABBITMQ_NODE, '-q', ...args], { env: { ...process.env, HOME: home }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`rabbitmqctl ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Seeds `count` proved customers of `agency` with one device each, in one statement run inside PostgreSQL
 * (generate_series; nothing crosses the wire, which a million devices need: test/support's seedCustomers sends
 * the user ids back and forth and returns every token). Returns how many devices it made.
 */
async function seedAgency(sql: pg.Pool, count: number, agency: string, prefix: string): Promise<number> {
  await sql.query(`INSERT INTO agencies (code, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [agency]);
  await sql.query(`CREATE SEQUENCE IF NOT EXISTS seed_phone_seq`);
  const { rowCount } = await sql.query(
    `WITH u AS (
       INSERT INTO users (id, phone, role, agency_code, phone_proved_at, created_at)
       SELECT gen_random_uuid(), '+2217' || lpad(nextval('seed_phone_seq')::text, 8, '0'), 'customer', $2, now() - interval '1 day', now() - interval '1 day'
         FROM generate_series(1, $1)
       RETURNING id)
     INSERT INTO device_sessions (id, user_id, family, device_model, platform, push_token, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
     SELECT gen_random_uuid(), u.id, gen_random_uuid(), 'Phone', 'android', $3 || '-' || gen_random_uuid(), uuid_send(gen_random_uuid()), now(), now() + interval '30 days', now(), now(), 'active'
       FROM u`,
    [count, agency, prefix],
  );
  return rowCount ?? 0;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const configOf = (env: Record<string, string>) =>
  loadConfig({ APP_ENV: 'test', HOST: '127.0.0.1', PORT: '0', OPS_PORT: '0', LOG_LEVEL: 'silent', JWT_PUBLIC_KEYS: JSON.stringify(TEST_JWKS), JWT_SIGNING_KEY: TEST_SIGNING_JWK, AUTH_SECRET: 'test-secret-test-secret-test-secret!', ...env });

/** Whether loadConfig accepts these settings (e.g. a transport the config may or may not know yet). */
function configAccepts(env: Record<string, string>): boolean {
  try {
    configOf(env);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const DEVICES = option('devices', 100_000);
  const BACKLOG = option('backlog', DEVICES);
  const URGENT = option('urgent', 50);
  const URGENT_GAP_MS = option('urgent-gap-ms', 100);
  const H2_IN_FLIGHT = option('h2-in-flight', 3);
  const WARMUP = option('warmup', 1_000);
  const QUIET_WAIT = option('quiet-wait', 45);
  const QUIET_CORES = option('quiet-cores', 0.3);
  /** A timed phase during which other processes used more than this is measured again (up to --attempts). */
  const NOISY_CORES = option('noisy-cores', 0.3);
  const ATTEMPTS = option('attempts', 3);
  /** Extra settings for the worker nodes, for experiments: --worker-env=FCM_SENDS_PER_THREAD=64,DISPATCH_LOW_SPLIT=50 */
  const envList = (name: string): Record<string, string> =>
    Object.fromEntries((textOption(name) ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const WORKER_ENV = envList('worker-env');
  /** The same for the API node: --api-env=… */
  const API_ENV = envList('api-env');
  const write = !flag('no-write');
  /** The section of bench/RESULTS.md written (--section=…); other than "dispatch", the chart is not redrawn. */
  const SECTION = textOption('section') ?? 'dispatch';
  /**
   * --memory: instead of the comparison, one broadcast to every device per run, with the worker's memory sampled
   * (bench/dispatch/memory.ts): a run per selected variant with the product's settings, and after it one with
   * --memory-compare's worker settings (say, the V8 defaults), each in a fresh worker process.
   */
  const MEMORY = flag('memory');
  const MEMORY_COMPARE = envList('memory-compare');
  const MEMORY_INTERVAL_MS = option('memory-interval-ms', 250);
  const MEMORY_IDLE_S = option('memory-idle-s', 10);
  const MEMORY_AFTER_S = option('memory-after-s', 15);
  /** --workers=N: one worker process against N side by side (bench/dispatch/workers.ts); --rounds alternates them. */
  const WORKERS = textOption('workers') === undefined ? undefined : option('workers', 2);
  const ROUNDS = option('rounds', 1);
  const command = `npm run bench:dispatch${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

  const services = toServicesEnv(loadServicesSettings(join(ROOT, '.services', 'env')));
  const tag = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const groups: Groups = new Map([[process.pid, 'bench (fake FCM)']]);

  const onSignal = (sig: NodeJS.Signals) => {
    console.log(`\n${sig}: cleaning up…`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  console.log(`dispatch bench: ${fmt(DEVICES)} devices, backlog ${fmt(BACKLOG)}, ${URGENT} urgent jobs per phase; ${os.cpus().length} cores, Node ${process.version}`);

  // --- the fake FCM (this process) and the CONNECT proxy (its own process)
  const urgentAt = new Map<string, number>();
  const urgentWaiters = new Map<string, () => void>();
  const fakeWindow = textOption('fake-h2-window');
  const fake: FakeFcm = await startFakeFcm({
    record: 'counts',
    ...(fakeWindow ? { h2WindowBytes: Number(fakeWindow) } : {}),
    outcomes: ({ token }) => {
      if (token !== undefined && token.startsWith('urg')) {
        if (!urgentAt.has(token)) urgentAt.set(token, performance.now());
        urgentWaiters.get(token)?.();
      }
      return 'ok';
    },
  });
  cleanups.push({ what: 'fake FCM', run: () => fake.close() });
  const proxyChild = new Child('proxy', fork(SCRIPT, ['--child=proxy', `--target-port=${fake.port}`], { stdio: 'inherit' }));
  cleanups.push({ what: 'proxy process', run: () => stopChild(proxyChild.proc) });
  const proxyPort = ((await proxyChild.next(30_000)).ready as { port: number }).port;
  groups.set(proxyChild.proc.pid!, 'proxy');
  console.log(`  fake FCM on ${fake.origin} (HTTP/1.1 + HTTP/2, record 'counts'); CONNECT proxy on 127.0.0.1:${proxyPort} (pid ${proxyChild.proc.pid})`);

  // --- database, vhost
  const dbName = `bench_dispatch_${tag}`;
  const adminUrl = services.TEST_DATABASE_URL;
  const dbUrlObj = new URL(adminUrl);
  dbUrlObj.pathname = `/${dbName}`;
  const dbUrl = dbUrlObj.toString();
  await adminQuery(adminUrl, `CREATE DATABASE ${dbName} TEMPLATE ${TEMPLATE_DATABASE}`);
  cleanups.push({ what: `database ${dbName}`, run: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`) });
  const { applied } = await migrate({ databaseUrl: dbUrl });
  const vhost = `bench_dispatch_${tag}`;
  const amqpUser = decodeURIComponent(new URL(services.TEST_AMQP_URL).username) || 'guest';
  await rabbitmqctl(services, ['add_vhost', vhost]);
  cleanups.push({ what: `vhost ${vhost}`, run: () => rabbitmqctl(services, ['delete_vhost', vhost]) });
  await rabbitmqctl(services, ['set_permissions', '-p', vhost, amqpUser, '.*', '.*', '.*']);
  const amqpUrl = new URL(services.TEST_AMQP_URL);
  amqpUrl.pathname = `/${encodeURIComponent(vhost)}`;
  console.log(`  database ${dbName} (from ${TEMPLATE_DATABASE}${applied.length ? `, +${applied.length} migrations` : ''}), vhost ${vhost}`);

  // --- Redis keys: the product's (per FCM project) and BullMQ's (private prefix) are deleted at the end
  const projectId = `samaconso-bench-${tag.replace('_', '-')}`;
  const bullPrefix = `bench-dispatch-${tag}`;
  cleanups.push({
    what: 'Redis keys',
    run: async () => {
      const redis = new Redis(services.TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
      await redis.connect();
      try {
        let removed = 0;
        for (const pattern of [`*${projectId}*`, `${bullPrefix}:*`]) {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
            cursor = next;
            if (keys.length) removed += await redis.del(...keys);
          } while (cursor !== '0');
        }
        console.log(`  removed ${removed} Redis keys`);
      } finally {
        redis.disconnect();
      }
    },
  });
  const saFile = serviceAccountFile(projectId);
  cleanups.push({ what: 'service-account file', run: () => rmSync(dirname(saFile), { recursive: true, force: true }) });

  // --- seed
  const sql = new pg.Pool({ connectionString: dbUrl, max: 4 });
  cleanups.push({ what: 'bench pool', run: () => sql.end() });
  const seedT0 = performance.now();
  const N = await seedAgency(sql, DEVICES, 'BENCH', 'bench');
  const warm = await seedCustomers(sql, WARMUP, { devices: 1, agency: 'WARM', prefix: 'warm' });
  const urg = await seedCustomers(sql, URGENT * 2, { devices: 1, agency: 'URG', prefix: 'urg' });
  const backlogAgency = BACKLOG === DEVICES || MEMORY ? 'BENCH' : 'LOW';
  const NB = backlogAgency === 'BENCH' ? N : await seedAgency(sql, BACKLOG, 'LOW', 'low');
  const { rows: urgRows } = await sql.query<{ user_id: string; push_token: string }>(`SELECT user_id, push_token FROM device_sessions WHERE user_id = ANY($1::uuid[])`, [urg.users]);
  const urgentUsers = urgRows.map((r) => ({ user: r.user_id, token: r.push_token }));
  await sql.query('ANALYZE');
  // An access token lives 15 minutes and a run waits for a quiet machine between phases: a fresh one past 10.
  let adminTok = '';
  let adminAt = Number.NEGATIVE_INFINITY;
  const admin = async (): Promise<string> => {
    if (performance.now() - adminAt > 600_000) {
      adminTok = await adminToken(sql);
      adminAt = performance.now();
    }
    return adminTok;
  };
  console.log(`  seeded ${fmt(N)} devices in agency BENCH${backlogAgency === 'LOW' ? `, ${fmt(NB)} in LOW` : ''}, ${fmt(warm.tokens.length)} in WARM, ${urgentUsers.length} urgent users (${((performance.now() - seedT0) / 1000).toFixed(1)} s)`);

  // --- product settings
  const baseEnv: Record<string, string> = {
    DATABASE_URL: dbUrl,
    AMQP_URL: amqpUrl.toString(),
    REDIS_URL: services.TEST_REDIS_URL,
    FCM_PROJECT_ID: projectId,
    FCM_CREDENTIALS_FILE: saFile,
    // The bench measures capacity: the project quota (default 600,000/min = 10,000/s) is lifted so it cannot cap the
    // product where the plain loop and BullMQ have none.
    FCM_RATE_PER_MINUTE: '60000000',
    SHUTDOWN_TIMEOUT_MS: '20000',
  };
  const directEnv = (extra: Record<string, string>): Record<string, string> => ({
    NODE_OPTIONS: `--import ${new URL('./dispatch/direct-preload.mjs', import.meta.url).href}`,
    BENCH_FAKE_PORT: String(fake.port),
    BENCH_FAKE_CA_FILE: fake.caFile,
    ...extra,
  });
  // The first is the product's default (src/config.ts FCM_TRANSPORT): it is the one compared against the goals and
  // the one whose worker runs the urgent phases.
  const allVariants: Variant[] = [
    { key: 'proxy-http2-session', label: 'product e2e, default transport http2-session, via CONNECT proxy', path: 'proxy', transport: 'http2-session (default)', env: { FCM_TRANSPORT: 'http2-session', FCM_PROXY_URL: `http://127.0.0.1:${proxyPort}`, FCM_EXTRA_CA_FILE: fake.caFile } },
    // The default with no progress recorded inside a batch (what the product did before issue 9): the cost of progress.
    { key: 'proxy-http2-session-no-progress', label: 'product e2e, default transport, via CONNECT proxy, no in-batch progress (DISPATCH_PROGRESS_STEP=0)', path: 'proxy', transport: 'http2-session (default)', env: { FCM_TRANSPORT: 'http2-session', FCM_PROXY_URL: `http://127.0.0.1:${proxyPort}`, FCM_EXTRA_CA_FILE: fake.caFile, DISPATCH_PROGRESS_STEP: '0' } },
    { key: 'direct-http2-session', label: 'product e2e, http2-session, direct', path: 'direct', transport: 'http2-session (default)', env: { FCM_TRANSPORT: 'http2-session', FCM_EXTRA_CA_FILE: fake.caFile, ...directEnv({}) } },
    { key: 'proxy-http1', label: 'product e2e, http1, via CONNECT proxy', path: 'proxy', transport: 'http1', env: { FCM_TRANSPORT: 'http1', FCM_PROXY_URL: `http://127.0.0.1:${proxyPort}`, FCM_EXTRA_CA_FILE: fake.caFile } },
    { key: 'direct-http1', label: 'product e2e, http1, direct', path: 'direct', transport: 'http1', env: { FCM_TRANSPORT: 'http1', FCM_EXTRA_CA_FILE: fake.caFile, ...directEnv({}) } },
    // http2 takes no FCM_EXTRA_CA_FILE (config refuses it): the token call trusts the test CA through NODE_EXTRA_CA_CERTS.
    { key: 'direct-http2', label: 'product e2e, http2 (sendEach), direct', path: 'direct', transport: 'http2 (sendEach)', env: { FCM_TRANSPORT: 'http2', NODE_EXTRA_CA_CERTS: fake.caFile, ...directEnv({}) } },
  ];
  const wanted = (textOption('variants') ?? (MEMORY ? DEFAULT_VARIANT : allVariants.map((v) => v.key).join(','))).split(',');
  const variants: Variant[] = [];
  const refused: string[] = [];
  for (const v of allVariants) {
    if (!wanted.includes(v.key)) continue;
    const { NODE_OPTIONS: _n, BENCH_FAKE_PORT: _p, BENCH_FAKE_CA_FILE: _c, NODE_EXTRA_CA_CERTS: _e, ...cfg } = { ...baseEnv, ...v.env };
    if (configAccepts({ ...cfg, ROLE: 'worker' })) variants.push(v);
    else refused.push(`${v.key} (src/config.ts refuses FCM_TRANSPORT=${v.env.FCM_TRANSPORT}${v.path === 'proxy' ? ' with FCM_PROXY_URL' : ''})`);
  }
  if (!variants[0] || variants[0].key !== DEFAULT_VARIANT) throw new Error(`the default variant ${DEFAULT_VARIANT} must be measured (it runs the urgent phases)`);
  if (refused.length) console.log(`  not measured: ${refused.join('; ')}`);

  // --- API node (own process; runs the outbox relay)
  const nodes: NodeProcess[] = [];
  const stopNode = async (n: NodeProcess): Promise<void> => {
    if (n.child.exitCode !== null || n.child.signalCode !== null) return;
    n.child.kill('SIGTERM');
    const t = setTimeout(() => n.child.kill('SIGKILL'), 25_000);
    await n.exited;
    clearTimeout(t);
  };
  cleanups.push({ what: 'node processes', run: () => Promise.all(nodes.map(stopNode)) });
  const api = await startNodeProcess('api', { ...baseEnv, ...allVariants[0]!.env, ...API_ENV }, 60_000);
  nodes.push(api);
  groups.set(api.child.pid!, 'API node');
  const apiUrl = /listening on (http:\/\/\S+)/.exec(api.output())?.[1];
  if (!apiUrl) throw new Error(`API process: no URL in its output:\n${api.output()}`);
  await waitReady(api, 'API');
  console.log(`  API node pid ${api.child.pid} on ${apiUrl}`);

  const delivered = () => fake.stats().delivered;
  const waitDelivered = async (base: number, count: number, label: string, timeoutMs: number, t0: number): Promise<void> => {
    const target = base + count;
    const progress = setInterval(() => {
      const d = delivered() - base;
      const s = (performance.now() - t0) / 1000;
      console.log(`    ${label}: ${fmt(d)}/${fmt(count)} delivered, ${s.toFixed(1)} s (${fmt(d / s)}/s)`);
    }, 3_000);
    try {
      await fake.waitFor(target, { timeoutMs });
    } finally {
      clearInterval(progress);
    }
  };
  const jobSettled = async (id: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await sql.query<{ state: string }>(`SELECT state FROM notification_jobs WHERE id = $1`, [id]);
      if (rows[0] && (rows[0].state === 'done' || rows[0].state === 'failed')) return;
      if (Date.now() > deadline) throw new Error(`job ${id} not settled after ${timeoutMs} ms (state ${rows[0]?.state})`);
      await sleep(50);
    }
  };

  if (WORKERS !== undefined) {
    const variant = variants[0]!;
    const runs = await runWorkersComparison(
      {
        devices: N,
        attempts: ATTEMPTS,
        noisyCores: NOISY_CORES,
        warmTokens: warm.tokens.length,
        startWorker: async (nodeId, workerCount) => {
          const w = await startNodeProcess('worker', { ...baseEnv, ...variant.env, ...WORKER_ENV, NODE_ID: nodeId, FCM_WORKER_COUNT: String(workerCount) }, 300_000);
          nodes.push(w);
          groups.set(w.child.pid!, 'worker node');
          await waitReady(w, nodeId, 300_000);
          return w;
        },
        stopWorker: async (w) => {
          await stopNode(w);
          groups.delete(w.child.pid!);
        },
        post: async (agency) => postJob(apiUrl, await admin(), { target: { kind: 'agency', agency }, ...E2E_JOB }),
        delivered,
        waitDelivered,
        jobSettled,
        waitForQuiet: () => waitForQuiet(groups, QUIET_CORES, QUIET_WAIT),
        cpuWindow: () => {
          const end = cpuMeter(groups);
          return () => {
            const split = end();
            return { other: split.cores['other'] ?? 0, text: fmtSplit(split) };
          };
        },
      },
      WORKERS,
      ROUNDS,
    );
    const section = workersSection(runs, WORKERS, {
      date: startedAt.toISOString(),
      machine: `${os.cpus()[0]?.model.trim().split(/\s+/).slice(0, 2).join(' ') ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}; PostgreSQL, RabbitMQ and Redis of ops/services.sh on the same machine, shared with other work (the "other" CPU column).`,
      command,
      noisyCores: NOISY_CORES,
      minutes: (Date.now() - startedAt.getTime()) / 60_000,
      settings: `product defaults (FCM_POOL_THREADS 2, FCM_BATCHES_IN_FLIGHT 4, FCM_URGENT_RESERVED 1, CONSUMER_PREFETCH defaults) except FCM_RATE_PER_MINUTE=60,000,000 (so the project quota caps neither)${Object.keys(WORKER_ENV).length ? ` and ${Object.entries(WORKER_ENV).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}; a timed broadcast during which other processes used more than ${NOISY_CORES} cores is measured again, up to ${ATTEMPTS} attempts, after waiting up to ${QUIET_WAIT} s for a quiet machine`,
    });
    console.log(`\n${section}`);
    if (write) console.log(`wrote ${writeResultsSection('dispatch workers', section)}`);
    else console.log('(--no-write: RESULTS.md left unchanged)');
    return;
  }

  if (MEMORY) {
    const runs: MemoryRun[] = [];
    const plan = variants.flatMap((variant) => [
      { variant, label: `${variant.key}, product defaults`, env: {} },
      ...(Object.keys(MEMORY_COMPARE).length ? [{ variant, label: `${variant.key}, compared settings`, env: MEMORY_COMPARE }] : []),
    ]);
    // The section is written after every run, so a long run stopped half way keeps what it measured.
    const report = (): void => {
      const section = [
        '## dispatch memory',
        '',
        `- date: ${startedAt.toISOString()}`,
        `- machine: ${os.cpus()[0]?.model.trim().split(/\s+/).slice(0, 2).join(' ') ?? 'unknown'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}; services of ops/services.sh on the same machine, shared with other work.`,
        `- command: \`${command}\``,
        `- workload: ${fmt(N)} devices (customers with one device each in one agency, seeded inside PostgreSQL by one INSERT … SELECT FROM generate_series: nothing crosses the wire), one agency job of type monthly_summary (normal queue) per run; the worker node (own process, from the sources through tsx like the dispatch section's, so each pool thread also carries tsx) starts fresh for each run, runs a ${fmt(warm.tokens.length)}-device warm-up job, is left idle ${MEMORY_IDLE_S} s, then the broadcast (POST → the fake answered every token → job settled), then ${MEMORY_AFTER_S} s idle again.`,
        `- witnesses, every ${MEMORY_INTERVAL_MS} ms: the worker's VmRSS (/proc/<pid>/status, read by the bench) and each thread's own process.memoryUsage() and V8 young/old generation sizes (bench/dispatch/memory-sampler.mjs preloaded into the worker and its piscina threads). idle RSS = median of the idle phase, peak = largest sample of the broadcast, growth = peak − idle.`,
        '',
        ...memoryTables(runs, MEMORY_GOAL_MB, fmt),
        '',
      ].join('\n');
      console.log(`\n${section}`);
      if (write) console.log(`wrote ${writeResultsSection('dispatch memory', section)}`);
      else console.log('(--no-write: RESULTS.md left unchanged)');
    };
    for (const { variant, label, env } of plan) {
      console.log(`\n[memory: ${label}] one agency job of ${fmt(N)} devices`);
      const recorder = new MemoryRecorder(`${tag}-${runs.length}`, MEMORY_INTERVAL_MS);
      // Generous: on a busy shared machine, loading the sources through tsx has taken more than a minute.
      const worker = await startNodeProcess('worker', { ...baseEnv, ...variant.env, ...WORKER_ENV, ...env, ...recorder.env(variant.env.NODE_OPTIONS) }, 300_000);
      nodes.push(worker);
      groups.set(worker.child.pid!, 'worker node');
      await waitReady(worker, 'worker', 300_000);
      recorder.start(worker.child.pid!);
      const warmBase = delivered();
      await jobSettled(await postJob(apiUrl, await admin(), { target: { kind: 'agency', agency: 'WARM' }, ...E2E_JOB }), 120_000);
      await fake.waitFor(warmBase + warm.tokens.length, { timeoutMs: 60_000 });
      recorder.enter('idle');
      await sleep(MEMORY_IDLE_S * 1000);
      recorder.enter('broadcast');
      const base = delivered();
      const t0 = performance.now();
      const postedAt = Date.now();
      const id = await postJob(apiUrl, await admin(), { target: { kind: 'agency', agency: 'BENCH' }, ...E2E_JOB });
      let failedNote: string | undefined;
      await waitDelivered(base, N, label, 1_800_000, t0).catch((e: unknown) => (failedNote = `${String(e)}; worker output: ${worker.output().slice(-2000)}`));
      const seconds = (performance.now() - t0) / 1000;
      await jobSettled(id, 300_000).catch((e: unknown) => (failedNote ??= String(e)));
      recorder.enter('after');
      await sleep(MEMORY_AFTER_S * 1000);
      recorder.enter(undefined);
      const tokens = delivered() - base;
      const run = recorder.finish({ label, env, tokens, seconds, rate: tokens / seconds, postedAt, ...(failedNote ? { failedNote } : {}) });
      runs.push(run);
      await stopNode(worker);
      groups.delete(worker.child.pid!);
      console.log(`  ${fmt(tokens)} in ${seconds.toFixed(1)} s = ${fmt(run.rate)} sends/s; worker RSS idle ${(run.idleRss / 2 ** 20).toFixed(0)} MB, peak ${(run.peakRss / 2 ** 20).toFixed(0)} MB, after ${(run.afterRss / 2 ** 20).toFixed(0)} MB${failedNote ? `; PROBLEM: ${failedNote}` : ''}`);
      report();
    }
    return;
  }

  // --- 2 and 3: plain loops and BullMQ (each in its own process, the same N messages), before the product
  const subjects: Record<'plain-h2' | 'plain-h1' | 'bullmq', SubjectResult | undefined> = { 'plain-h2': undefined, 'plain-h1': undefined, bullmq: undefined };
  const subjectLabels = {
    'plain-h2': `plain firebase-admin sendEach(500) HTTP/2, ${H2_IN_FLIGHT} batches in flight`,
    'plain-h1': `plain firebase-admin send() HTTP/1.1, ${PLAIN_H1_SOCKETS} keep-alive sockets, ${PLAIN_H1_IN_FLIGHT} in flight`,
    bullmq: `BullMQ: addBulk(jobs of ${BATCH}) → Worker (concurrency ${BULLMQ_CONCURRENCY}) → sendEach(500) HTTP/2`,
  } as const;
  for (const role of ['plain-h2', 'plain-h1', 'bullmq'] as const) {
    console.log(`\n[${role}] ${subjectLabels[role]}: ${fmt(N)} messages`);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const child = new Child(role, fork(SCRIPT, [`--child=${role}`], { stdio: 'inherit' }));
      cleanups.push({ what: `${role} process`, run: () => stopChild(child.proc) });
      groups.set(child.proc.pid!, role);
      await child.next(60_000);
      child.proc.send({ cmd: 'run', run: { messages: N, port: fake.port, ca: fake.ca, h2InFlight: H2_IN_FLIGHT, warmup: WARMUP, redisUrl: services.TEST_REDIS_URL, prefix: bullPrefix } satisfies ChildRun });
      await child.next(120_000); // warmed up
      await waitForQuiet(groups, QUIET_CORES, QUIET_WAIT);
      const before = delivered();
      const cpu = cpuMeter(groups);
      child.proc.send({ cmd: 'go' });
      const { result } = (await child.next(900_000)) as { result: ChildResult };
      const split = cpu();
      await child.exited;
      groups.delete(child.proc.pid!);
      const got = delivered() - before;
      if (got < N) console.log(`  WARNING: the fake counted ${fmt(got)} of ${fmt(N)}`);
      const r: SubjectResult = { key: role, label: subjectLabels[role], sent: result.sent, seconds: result.seconds, rate: result.sent / result.seconds, cpu: split, peakRssKb: result.peakRssKb, attempts: attempt, ...(result.firstFailure ? { firstFailure: result.firstFailure } : {}) };
      const others = split.cores['other'] ?? 0;
      console.log(`  ${fmt(result.sent)} sent in ${result.seconds.toFixed(2)} s = ${fmt(r.rate)} msg/s${result.failed ? `, ${result.failed} failed (${result.firstFailure})` : ''}; CPU: ${fmtSplit(split)}`);
      const prev = subjects[role];
      if (!prev || others < (prev.cpu.cores['other'] ?? 0)) subjects[role] = r;
      subjects[role]!.attempts = attempt;
      if (others <= NOISY_CORES) break;
      if (attempt < ATTEMPTS) console.log(`  disturbed (other processes used ${others.toFixed(2)} cores): measuring again`);
    }
  }

  // --- 1 and 4: product end to end, one worker process per variant
  const e2e: E2eResult[] = [];
  let urgent: UrgentResult | undefined;
  for (const variant of variants) {
    console.log(`\n[${variant.key}] ${variant.label}: one agency job of ${fmt(N)} devices`);
    const workerEnv = { ...baseEnv, ...variant.env, ...WORKER_ENV };
    const worker = await startNodeProcess('worker', workerEnv, 60_000);
    nodes.push(worker);
    groups.set(worker.child.pid!, 'worker node');
    await waitReady(worker, 'worker');
    // Warm-up: a small job through the whole path (JIT, sockets, OAuth token, sessions), not timed.
    {
      const base = delivered();
      const id = await postJob(apiUrl, await admin(), { target: { kind: 'agency', agency: 'WARM' }, ...E2E_JOB });
      await fake.waitFor(base + warm.tokens.length, { timeoutMs: 120_000 }).catch((e: unknown) => {
        throw new Error(`${String(e)}\nworker output:\n${worker.output().slice(-4000)}`);
      });
      await jobSettled(id, 60_000);
    }
    let result: E2eResult | undefined;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      await waitForQuiet(groups, QUIET_CORES, QUIET_WAIT);
      const base = delivered();
      const cpu = cpuMeter(groups);
      const t0 = performance.now();
      const id = await postJob(apiUrl, await admin(), { target: { kind: 'agency', agency: 'BENCH' }, ...E2E_JOB });
      let failedNote: string | undefined;
      await waitDelivered(base, N, variant.key, 900_000, t0).catch((e: unknown) => {
        failedNote = `${String(e)}; worker output: ${worker.output().slice(-2000)}`;
      });
      const seconds = (performance.now() - t0) / 1000;
      const split = cpu();
      await jobSettled(id, 120_000).catch((e: unknown) => (failedNote ??= String(e)));
      const settledSeconds = (performance.now() - t0) / 1000;
      const got = delivered() - base;
      const rate = got / seconds;
      console.log(`  ${fmt(got)} delivered in ${seconds.toFixed(2)} s = ${fmt(rate)} sends/s (job settled at ${settledSeconds.toFixed(2)} s); CPU: ${fmtSplit(split)}`);
      if (failedNote) console.log(`  PROBLEM: ${failedNote}`);
      const r: E2eResult = { variant, tokens: got, seconds, rate, settledSeconds, cpu: split, workerHwmKb: undefined, apiHwmKb: undefined, attempts: attempt, ...(failedNote ? { failedNote } : {}) };
      const others = split.cores['other'] ?? 0;
      if (!result || others < (result.cpu.cores['other'] ?? 0)) result = r;
      result.attempts = attempt;
      if (others <= NOISY_CORES || failedNote) break;
      if (attempt < ATTEMPTS) console.log(`  disturbed (other processes used ${others.toFixed(2)} cores): measuring again`);
    }
    const rate = result!.rate;
    e2e.push(result!);

    if (variant.key === DEFAULT_VARIANT) urgent = await urgentPhases(rate);
    result!.workerHwmKb = vmHwm(worker.child.pid);
    result!.apiHwmKb = vmHwm(api.child.pid);
    await stopNode(worker);
    console.log(`  worker peak RSS ${mb(result!.workerHwmKb)} MB; stopped (${worker.child.exitCode ?? worker.child.signalCode})`);
  }

  // --- 4: urgent latency, idle and under a low-priority backlog (with the default variant's worker)
  async function urgentPhases(e2eRate: number): Promise<UrgentResult> {
    // Epoch ms of each urgent job's POST and FCM answer (performance.timeOrigin + performance.now()), to place the
    // product's own timestamps (outbox created/published, fan-out done) between them.
    const marks = new Map<string, { postAt: number; ackAt: number }>();
    const epoch = (t: number) => performance.timeOrigin + t;
    const one = async (u: { user: string; token: string }): Promise<number> => {
      const acked = new Promise<void>((resolve) => urgentWaiters.set(u.token, resolve));
      const t0 = performance.now();
      const id = await postJob(apiUrl!, await admin(), { target: { kind: 'user', userId: u.user }, type: 'outage', title: 'Panne', body: 'Panne en cours dans votre quartier.' });
      await Promise.race([acked, sleep(60_000).then(() => Promise.reject(new Error(`urgent ${u.token} not answered within 60 s`)))]);
      urgentWaiters.delete(u.token);
      marks.set(id, { postAt: epoch(t0), ackAt: epoch(urgentAt.get(u.token)!) });
      return urgentAt.get(u.token)! - t0;
    };
    const stages = async (): Promise<Stages> => {
      const ids = [...marks.keys()];
      const { rows } = await sql.query<{ job_id: string; created: number; published: number | null; fanned: number | null }>(
        `SELECT o.job_id, extract(epoch FROM o.created_at) * 1000 AS created, extract(epoch FROM o.published_at) * 1000 AS published,
                extract(epoch FROM c.done_at) * 1000 AS fanned
           FROM outbox o LEFT JOIN fanout_checkpoints c ON c.job_id = o.job_id
          WHERE o.job_id = ANY($1::uuid[])`,
        [ids],
      );
      const all: Array<StageTimes & { total: number }> = [];
      for (const r of rows) {
        const m = marks.get(r.job_id);
        if (!m || r.published === null || r.fanned === null) continue;
        all.push({
          accept: Number(r.created) - m.postAt,
          relay: Number(r.published) - Number(r.created),
          fanOut: Number(r.fanned) - Number(r.published),
          push: m.ackAt - Number(r.fanned),
          total: m.ackAt - m.postAt,
        });
      }
      marks.clear();
      const mean = (k: keyof StageTimes) => all.reduce((a, x) => a + x[k], 0) / all.length;
      const slowest = [...all].sort((a, b) => b.total - a.total)[0] ?? { accept: NaN, relay: NaN, fanOut: NaN, push: NaN };
      return { mean: { accept: mean('accept'), relay: mean('relay'), fanOut: mean('fanOut'), push: mean('push') }, slowest, n: all.length };
    };
    console.log(`\n[urgent idle] ${URGENT} single-user 'outage' jobs, one at a time, ${URGENT_GAP_MS} ms apart`);
    const idle: number[] = [];
    await waitForQuiet(groups, QUIET_CORES, QUIET_WAIT);
    const cpuI = cpuMeter(groups);
    for (const u of urgentUsers.slice(0, URGENT)) {
      idle.push(await one(u));
      await sleep(URGENT_GAP_MS);
    }
    const cpuIdle = cpuI();
    const stagesIdle = await stages();
    console.log(`  stages (means, ms): ${fmtStages(stagesIdle.mean)}; slowest job: ${fmtStages(stagesIdle.slowest)}`);
    console.log(`  p50 ${fmtMs(percentile(idle, 0.5))} ms, p99 ${fmtMs(percentile(idle, 0.99))} ms, max ${fmtMs(Math.max(...idle))} ms`);

    console.log(`\n[urgent under backlog] 'planned_works' (low_priority) job to ${fmt(NB)} devices, then ${URGENT} urgent jobs`);
    await waitForQuiet(groups, QUIET_CORES, QUIET_WAIT);
    const base = delivered();
    const cpuB = cpuMeter(groups);
    const t0 = performance.now();
    const lowJob = await postJob(apiUrl!, await admin(), { target: { kind: 'agency', agency: backlogAgency }, type: 'planned_works', title: 'Travaux', body: 'Travaux programmés dans votre secteur demain de 9 h à 12 h.' });
    await fake.waitFor(base + Math.min(2_000, Math.floor(NB / 10)), { timeoutMs: 120_000 });
    const backlog: number[] = [];
    let duringBacklog = 0;
    for (const u of urgentUsers.slice(URGENT, 2 * URGENT)) {
      backlog.push(await one(u));
      // the urgent send itself is one of the delivered; the backlog is outstanding while fewer than NB low ones are
      if (delivered() - base - backlog.length < NB) duringBacklog++;
      await sleep(URGENT_GAP_MS);
    }
    const cpuBacklog = cpuB();
    const stagesBacklog = await stages();
    console.log(`  stages (means, ms): ${fmtStages(stagesBacklog.mean)}; slowest job: ${fmtStages(stagesBacklog.slowest)}`);
    console.log(`  p50 ${fmtMs(percentile(backlog, 0.5))} ms, p99 ${fmtMs(percentile(backlog, 0.99))} ms, max ${fmtMs(Math.max(...backlog))} ms; ${duringBacklog}/${URGENT} answered while the backlog was draining`);
    await waitDelivered(base, NB + URGENT, 'backlog', 900_000, t0);
    const backlogSeconds = (performance.now() - t0) / 1000;
    await jobSettled(lowJob, 120_000);
    const backlogRate = NB / backlogSeconds;
    console.log(`  backlog of ${fmt(NB)} drained in ${backlogSeconds.toFixed(2)} s (${fmt(backlogRate)} sends/s, urgent jobs included); e2e rate was ${fmt(e2eRate)}/s`);
    return { idle, backlog, duringBacklog, backlogTokens: NB, backlogSeconds, backlogRate, cpuIdle, cpuBacklog, stagesIdle, stagesBacklog };
  }

  // --- 5: peak RSS of the rest; proxy stats
  const apiHwm = vmHwm(api.child.pid);
  proxyChild.proc.send({ cmd: 'stats' });
  const tunnels = ((await proxyChild.next(10_000)).tunnels as number) ?? 0;
  const proxyHwm = vmHwm(proxyChild.proc.pid);
  const benchHwm = vmHwm(process.pid);
  const fakeStats = fake.stats();

  // --- 6: report
  const plainBest = [subjects['plain-h2'], subjects['plain-h1']].filter((s): s is SubjectResult => !!s).sort((a, b) => b.rate - a.rate)[0]!;
  const bull = subjects.bullmq!;
  const def = e2e[0]!;
  // What the worker runs with (its env is baseEnv + the variant's: no DISPATCH_LOW_SPLIT, so the default).
  const lowSplit = configOf({ ...baseEnv, ...allVariants[0]!.env, ...WORKER_ENV, ROLE: 'worker' }).dispatch.lowSplit;
  const lowBatchMs = (lowSplit / def.rate) * 1000;
  const u = urgent!;
  const p = { idle50: percentile(u.idle, 0.5), idle99: percentile(u.idle, 0.99), back50: percentile(u.backlog, 0.5), back99: percentile(u.backlog, 0.99) };
  const urgentOk = p.back99 <= p.idle99 + lowBatchMs;
  const ratio = def.rate / plainBest.rate;
  const bestE2e = [...e2e].sort((a, b) => b.rate - a.rate)[0]!;

  const rows: string[] = [];
  rows.push('| subject | path | sends/s | vs plain loop | time (s) | sender process CPU µs/send | CPU during the run (cores) | attempts | peak RSS (MB) |');
  rows.push('|---|---|---:|---:|---:|---:|---|---:|---:|');
  const usPerSend = (split: CpuSplit, group: string, sends: number): string => {
    const c = split.cores[group];
    return c === undefined || sends === 0 ? '—' : ((c * split.seconds * 1e6) / sends).toFixed(0);
  };
  for (const s of [subjects['plain-h2'], subjects['plain-h1']]) {
    if (!s) continue;
    rows.push(`| ${s.label}${s === plainBest ? ' **(the plain loop)**' : ''} | direct | ${fmt(s.rate)} | ${(s.rate / plainBest.rate).toFixed(2)}x | ${s.seconds.toFixed(2)} | ${usPerSend(s.cpu, s.key, s.sent)} | ${fmtSplit(s.cpu)} | ${s.attempts} | ${mb(s.peakRssKb)} |`);
  }
  rows.push(`| ${bull.label} | direct | ${fmt(bull.rate)} | ${(bull.rate / plainBest.rate).toFixed(2)}x | ${bull.seconds.toFixed(2)} | ${usPerSend(bull.cpu, 'bullmq', bull.sent)} | ${fmtSplit(bull.cpu)} | ${bull.attempts} | ${mb(bull.peakRssKb)} |`);
  for (const r of e2e) {
    rows.push(`| ${r.variant.label}${r === def ? ' **(default)**' : ''} | ${r.variant.path} | ${fmt(r.rate)} | ${(r.rate / plainBest.rate).toFixed(2)}x | ${r.seconds.toFixed(2)} | ${usPerSend(r.cpu, 'worker node', r.tokens)} | ${fmtSplit(r.cpu)} | ${r.attempts} | worker ${mb(r.workerHwmKb)} |`);
  }

  const goals = [
    `- product e2e (default: http2-session via proxy) / plain loop: **${ratio.toFixed(2)}x** (goal ≥ 0.8x): **${ratio >= 0.8 ? 'met' : `missed by ${((0.8 - ratio) * plainBest.rate).toFixed(0)} sends/s (${(((0.8 - ratio) / 0.8) * 100).toFixed(0)} % below the goal)`}**` +
      (bestE2e !== def ? `; best product variant (${bestE2e.variant.key}) ${(bestE2e.rate / plainBest.rate).toFixed(2)}x (${bestE2e.rate / plainBest.rate >= 0.8 ? 'meets' : 'misses'} it)` : ''),
    `- product e2e (default) vs BullMQ: ${fmt(def.rate)} vs ${fmt(bull.rate)} sends/s = **${(def.rate / bull.rate).toFixed(2)}x** (goal > 1x): **${def.rate > bull.rate ? 'met' : `missed by ${fmt(bull.rate - def.rate)} sends/s`}**` +
      (bestE2e !== def ? `; best variant (${bestE2e.variant.key}) ${(bestE2e.rate / bull.rate).toFixed(2)}x` : ''),
    `- urgent p99 under backlog ${fmtMs(p.back99)} ms ≤ p99 idle ${fmtMs(p.idle99)} ms + one low batch (${lowSplit} tokens at ${fmt(def.rate)}/s = ${fmtMs(lowBatchMs)} ms) = ${fmtMs(p.idle99 + lowBatchMs)} ms: **${urgentOk ? 'met' : `missed by ${fmtMs(p.back99 - p.idle99 - lowBatchMs)} ms`}**`,
  ];

  const section = [
    `## ${SECTION}`,
    '',
    `- date: ${startedAt.toISOString()}`,
    `- machine: ${os.cpus()[0]?.model.trim().split(/\s+/).slice(0, 2).join(' ') ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}; PostgreSQL, RabbitMQ and Redis of ops/services.sh on the same machine; the machine is shared with other work (the "other" CPU column).`,
    `- command: \`${command}\``,
    `- workload: ${fmt(N)} devices (customers with one device each in one agency; one agency job of type monthly_summary → normal queue) for every subject; warm-up of ${fmt(WARMUP)} messages per subject first (untimed). One run, no repetitions.`,
    `- fake FCM (test/support/fcm, HTTP/1.1 + HTTP/2 on one port, TLS with the test CA, record 'counts') in the bench process; the CONNECT proxy in its own process; it counted ${fmt(fakeStats.delivered)} delivered, ${fmt(fakeStats.failed)} failed, ${fmt(fakeStats.requests)} requests (${Object.entries(fakeStats.byHttpVersion).map(([k, v]) => `HTTP/${k}: ${fmt(v)}`).join(', ')}); proxy tunnels: ${fmt(tunnels)}.`,
    `- product: API node and worker node each in their own process (\`node --import tsx src/main.ts --role api|worker\`, test/support/worker-process.ts), one worker process per variant, product defaults (FCM_POOL_THREADS 2, FCM_BATCHES_IN_FLIGHT 4, FCM_URGENT_RESERVED 1, FCM_SENDS_PER_THREAD 200, CONSUMER_PREFETCH defaults, DISPATCH_LOW_SPLIT ${lowSplit}) except FCM_RATE_PER_MINUTE=60,000,000 (the 600,000/min default would cap at 10,000/s where the baselines have no cap). Timed from the POST to the fake having answered every token (the job row settles a little later).`,
    `- direct path: no FCM_PROXY_URL; the worker dials fcm.googleapis.com:443 and bench/dispatch/direct-preload.mjs (NODE_OPTIONS --import, also run at the start of every piscina thread) stands in for DNS, pointing that name at the fake (certificate verification on). The proxy path needs nothing of the kind.${refused.length ? ` Not measured: ${refused.join('; ')}.` : ''}`,
    `- plain loops and BullMQ: each in its own child process, messages built with the product's buildFcmMessage, a constant access token, the HTTP/2 ones through redirectFcmHttp2 (client-side \`:scheme\` fix), the HTTP/1.1 one on a keep-alive https.Agent whose trust list is a secureContext; BullMQ on the services' Redis with a private prefix, removeOnComplete.`,
    `- a timed phase during which other processes used more than ${NOISY_CORES} cores is measured again, up to ${ATTEMPTS} attempts; the least disturbed attempt is kept (its "other" CPU is in the row; "attempts" says how many were made). Urgent phases are measured once.${Object.keys(WORKER_ENV).length ? ` Worker nodes ran with extra settings: ${Object.entries(WORKER_ENV).map(([k, v]) => `${k}=${v}`).join(', ')}.` : ''}${Object.keys(API_ENV).length ? ` The API node ran with extra settings: ${Object.entries(API_ENV).map(([k, v]) => `${k}=${v}`).join(', ')}.` : ''}`,
    `- CPU columns: cores' worth used per process group during the timed window (/proc/<pid>/stat; the services by process name, shared with anything else using them), "bench (fake FCM)" is this process (the fake FCM plus orchestration), "other" = the machine's busy time (/proc/stat) minus all of those: other work on this shared machine. Before each timed phase the bench waits (up to ${QUIET_WAIT} s) for other processes to use less than ${QUIET_CORES} cores. "sender process CPU µs/send" = the CPU of the process running firebase-admin (plain/BullMQ child, or the worker node with its pool threads) per message.`,
    '',
    ...rows,
    '',
    `Urgent latency: POST of a single-user 'outage' job → the fake FCM answering that device (same clock, this process), ${URGENT} jobs one at a time, ${URGENT_GAP_MS} ms apart, worker of the default variant.`,
    '',
    '| phase | p50 (ms) | p99 (ms) | max (ms) | CPU (cores) |',
    '|---|---:|---:|---:|---|',
    `| idle | ${fmtMs(p.idle50)} | ${fmtMs(p.idle99)} | ${fmtMs(Math.max(...u.idle))} | ${fmtSplit(u.cpuIdle)} |`,
    `| during a ${fmt(u.backlogTokens)}-send low_priority backlog (${u.duringBacklog}/${u.backlog.length} answered while it drained) | ${fmtMs(p.back50)} | ${fmtMs(p.back99)} | ${fmtMs(Math.max(...u.backlog))} | ${fmtSplit(u.cpuBacklog)} |`,
    '',
    'Where the urgent time goes (ms: mean over the jobs, and the slowest job; from the outbox row\'s created_at/published_at and the fan-out checkpoint\'s done_at the product writes, and the fake\'s answer; one machine clock):',
    '',
    '| phase | POST → job accepted (outbox row) | → published by the relay | → fan-out done (RabbitMQ, consumer, fan-out) | → FCM answer (push batch via RabbitMQ, consumer, claim, scheduler, pool, proxy, fake) |',
    '|---|---:|---:|---:|---:|',
    ...([['idle', u.stagesIdle], ['low backlog', u.stagesBacklog]] as const).flatMap(([name, x]) => [
      `| ${name}, mean of ${x.n} | ${fmtMs(x.mean.accept)} | ${fmtMs(x.mean.relay)} | ${fmtMs(x.mean.fanOut)} | ${fmtMs(x.mean.push)} |`,
      `| ${name}, slowest job | ${fmtMs(x.slowest.accept)} | ${fmtMs(x.slowest.relay)} | ${fmtMs(x.slowest.fanOut)} | ${fmtMs(x.slowest.push)} |`,
    ]),
    '',
    `Backlog drained in ${u.backlogSeconds.toFixed(1)} s (${fmt(u.backlogRate)} sends/s in chunks of ${lowSplit}). Peak RSS (VmHWM): worker ${e2e.map((r) => `${r.variant.key} ${mb(r.workerHwmKb)} MB`).join(', ')}; API node ${mb(apiHwm)} MB; proxy ${mb(proxyHwm)} MB; bench process (fake FCM) ${mb(benchHwm)} MB.`,
    '',
    '![dispatch: sends/s and urgent latency](dispatch.svg)',
    '',
    'Goals:',
    '',
    ...goals,
    '',
  ].join('\n');

  const svg = chartSvg(
    [
      { label: 'plain loop', sub: plainBest === subjects['plain-h2'] ? 'sendEach h2' : 'send() h1', value: plainBest.rate, color: '#6b7280' },
      ...e2e.map((r) => ({ label: `product ${r.variant.path}`, sub: r.variant.transport, value: r.rate, color: r === def ? '#2563eb' : '#93c5fd' })),
      { label: 'BullMQ', sub: 'sendEach, conc. 4', value: bull.rate, color: '#f59e0b' },
    ],
    p,
    0.8 * plainBest.rate,
    N,
    p.idle99 + lowBatchMs,
  );

  console.log(`\n${section}`);
  if (write && SECTION !== 'dispatch') {
    // A side experiment (say, --variants of two settings) goes to its own section; the chart stays the main run's.
    console.log(`wrote ${writeResultsSection(SECTION, section.replace('![dispatch: sends/s and urgent latency](dispatch.svg)', ''))}`);
  } else if (write) {
    writeFileSync(fileURLToPath(new URL('./dispatch.svg', import.meta.url)), svg);
    console.log(`wrote ${writeResultsSection('dispatch', section)} and bench/dispatch.svg`);
  } else {
    console.log('(--no-write: RESULTS.md and the chart left unchanged)');
  }
}

async function waitReady(n: NodeProcess, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${n.opsUrl}/health/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    if (n.child.exitCode !== null) throw new Error(`${what} process exited:\n${n.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s:\n${n.output().slice(-4000)}`);
    await sleep(100);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ cmd: 'stop' });
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

// ---------------------------------------------------------------------------------------------------------------
// The chart (hand-written SVG)

function chartSvg(
  bars: Array<{ label: string; sub: string; value: number; color: string }>,
  p: { idle50: number; idle99: number; back50: number; back99: number },
  goal: number,
  messages: number,
  urgentLimit: number,
): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const W = 1080;
  const H = 420;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  // left panel: sends/s
  const L = { x: 70, y: 60, w: 660, h: 270 };
  const max = Math.max(goal, ...bars.map((b) => b.value)) * 1.15;
  out.push(`<text x="${L.x}" y="28" font-size="15" font-weight="bold">Sends per second (one fake FCM, ${fmt(messages)} messages each)</text>`);
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const v = (max / ticks) * i;
    const y = L.y + L.h - (v / max) * L.h;
    out.push(`<line x1="${L.x}" x2="${L.x + L.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${L.x - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#374151">${fmt(v)}</text>`);
  }
  const gy = L.y + L.h - (goal / max) * L.h;
  out.push(`<line x1="${L.x}" x2="${L.x + L.w}" y1="${gy.toFixed(1)}" y2="${gy.toFixed(1)}" stroke="#dc2626" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${L.x + L.w}" y="${(gy - 4).toFixed(1)}" text-anchor="end" fill="#dc2626">goal: 0.8 × plain loop</text>`);
  const slot = L.w / bars.length;
  bars.forEach((b, i) => {
    const bh = (b.value / max) * L.h;
    const x = L.x + i * slot + slot * 0.15;
    const bw = slot * 0.7;
    out.push(`<rect x="${x.toFixed(1)}" y="${(L.y + L.h - bh).toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="${b.color}"/>`);
    out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(L.y + L.h - bh - 5).toFixed(1)}" text-anchor="middle" font-weight="bold">${fmt(b.value)}</text>`);
    out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${L.y + L.h + 16}" text-anchor="middle" font-size="10">${esc(b.label)}</text>`);
    out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${L.y + L.h + 29}" text-anchor="middle" fill="#6b7280" font-size="9">${esc(b.sub)}</text>`);
  });
  out.push(`<line x1="${L.x}" x2="${L.x}" y1="${L.y}" y2="${L.y + L.h}" stroke="#111827"/>`);
  out.push(`<line x1="${L.x}" x2="${L.x + L.w}" y1="${L.y + L.h}" y2="${L.y + L.h}" stroke="#111827"/>`);
  // right panel: urgent latency
  const R = { x: 810, y: 60, w: 240, h: 270 };
  const vals = [p.idle50, p.idle99, p.back50, p.back99, urgentLimit];
  const rmax = Math.max(...vals.filter(Number.isFinite), 1) * 1.2;
  out.push(`<text x="${R.x - 40}" y="28" font-size="15" font-weight="bold">Urgent: POST → FCM answer (ms)</text>`);
  for (let i = 0; i <= ticks; i++) {
    const v = (rmax / ticks) * i;
    const y = R.y + R.h - (v / rmax) * R.h;
    out.push(`<line x1="${R.x}" x2="${R.x + R.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${R.x - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#374151">${fmtMs(v)}</text>`);
  }
  const groupsR = [
    { label: 'idle', a: p.idle50, b: p.idle99 },
    { label: 'low backlog', a: p.back50, b: p.back99 },
  ];
  const gslot = R.w / groupsR.length;
  groupsR.forEach((g, i) => {
    [g.a, g.b].forEach((v, k) => {
      const bh = (v / rmax) * R.h;
      const bw = gslot * 0.32;
      const x = R.x + i * gslot + gslot * 0.15 + k * (bw + 4);
      out.push(`<rect x="${x.toFixed(1)}" y="${(R.y + R.h - bh).toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="${k === 0 ? '#10b981' : '#047857'}"/>`);
      out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(R.y + R.h - bh - 5).toFixed(1)}" text-anchor="middle" font-size="11">${fmtMs(v)}</text>`);
    });
    out.push(`<text x="${(R.x + i * gslot + gslot / 2).toFixed(1)}" y="${R.y + R.h + 16}" text-anchor="middle">${g.label}</text>`);
  });
  const ly = R.y + R.h - (urgentLimit / rmax) * R.h;
  out.push(`<line x1="${R.x}" x2="${R.x + R.w}" y1="${ly.toFixed(1)}" y2="${ly.toFixed(1)}" stroke="#dc2626" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${R.x + R.w}" y="${(ly - 4).toFixed(1)}" text-anchor="end" fill="#dc2626" font-size="10">goal: p99 idle + one low batch</text>`);
  out.push(`<line x1="${R.x}" x2="${R.x}" y1="${R.y}" y2="${R.y + R.h}" stroke="#111827"/>`);
  out.push(`<line x1="${R.x}" x2="${R.x + R.w}" y1="${R.y + R.h}" y2="${R.y + R.h}" stroke="#111827"/>`);
  out.push(`<rect x="${R.x}" y="${H - 50}" width="12" height="12" fill="#10b981"/><text x="${R.x + 18}" y="${H - 40}">p50</text>`);
  out.push(`<rect x="${R.x + 60}" y="${H - 50}" width="12" height="12" fill="#047857"/><text x="${R.x + 78}" y="${H - 40}">p99</text>`);
  out.push(`<text x="${L.x}" y="${H - 12}" fill="#6b7280" font-size="10">bench/dispatch.ts — see bench/RESULTS.md "## dispatch" for the setup and the CPU split</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------

const childRole = textOption('child') as ChildRole | undefined;
if (childRole) {
  childMain(childRole).catch((e: unknown) => {
    console.error(`child ${childRole}: ${errText(e)}`);
    process.exit(1);
  });
} else {
  main()
    .then(async () => {
      await runCleanups();
      process.exit(0);
    })
    .catch(async (e: unknown) => {
      console.error(`dispatch bench failed: ${errText(e)}`);
      await runCleanups();
      process.exit(1);
    });
}
