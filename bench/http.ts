// Benchmark: a cached bill read through the whole stack against a bare Koa route serving the same JSON, side by side.
//
//   - The node runs in a CHILD process (this file with `--node`, under the same tsx loader): startNode() on the
//     embedded defaults (PGlite, in-process cache) or, with DATABASE_URL / REDIS_URL set in the caller's shell, on real
//     PostgreSQL and Redis (the database must be one the bench may write to: it adds a customer, a link and bills).
//     The child seeds a postpaid link with six bills, mints an access token with the node's own signing key, and reads
//     the bills once so the cache holds them. It also serves, on the API listener, as an extra route of the node
//     (NodeOptions.extraRoutes):
//       · `auth-only`: GET /bench/auth-only — the whole middleware chain and JWT authentication, then the same JSON,
//         with no validation, no actor hop, no link check, no cache.
//   - `bare` runs in a second child process of its own (this file with `--bare`): a bare Koa app (one @koa/router
//     route) answering the same JSON object. Not in the node's process: there it shared the process's heap, GC and
//     timers with the node (and Koa's code with a second app), and its CPU per request was 82–114 µs against 57–60 µs
//     alone, which flattered the ratio.
//   - The parent is the load side: autocannon on each subject in turn (`full` = GET /v1/meters/{linkId}/bills with
//     the token), rounds interleaved with the order rotated; median req/s and p99 per subject; full/bare is the ratio.
//   - Where the time goes: the child times, one at a time, the parts of a full read with nothing else running — the
//     JWT verification, the link's check in PostgreSQL (rule 5) and from the process's link cache, the cached read (cache lend + get + parse), and the
//     whole `bills` query to the meter-data actor (hop + check + cached read).
// Writes the tables into bench/RESULTS.md under "## http".
//
//   npx tsx bench/http.ts [--rounds=3] [--seconds=5] [--connections=10] [--micro-ms=2000] [--cpu-prof=DIR]
//
// Not part of `npm test`.
import { fork, type ChildProcess } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Router } from '@koa/router';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import Koa from 'koa';
import { createTokenVerifier } from '../http/auth.js';
import { defineRoute } from '../http/route.js';
import type { PostgresMessage } from '../src/adapters/postgres/postgres-messages.js';
import { SystemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import type { Caller } from '../src/contracts/caller.js';
import type { MeterDataMessage } from '../src/contracts/meter-data-messages.js';
import { CustomerDataReader, latestBills } from '../src/customer-data/index.js';
import { silentLogger } from '../src/logger.js';
import { readableLink } from '../src/meters/index.js';
import { startNode } from '../src/node.js';
import { insertLink } from '../test/support/meter-links.js';
import { bill } from '../test/support/source-twin-rows.js';
import { insertTwinRows } from '../test/support/source-twin.js';
import { median, option, sleep, textOption } from './bench-support.js';
import { writeResultsSection } from './results-file.js';

const ROUNDS = option('rounds', 3);
const SECONDS = option('seconds', 5);
const CONNECTIONS = option('connections', 10);
const MICRO_MS = option('micro-ms', 2_000);

type Subject = 'full' | 'auth-only' | 'bare';
const ALL_SUBJECTS: readonly Subject[] = ['full', 'auth-only', 'bare'];
// --subjects=full: only those (a CPU profile of one subject, say); the ratio needs full and bare.
const SUBJECTS = (textOption('subjects')?.split(',') ?? ALL_SUBJECTS).filter((s): s is Subject => ALL_SUBJECTS.includes(s as Subject));
const PROFILE_DIR = textOption('cpu-prof');

interface Ready {
  readonly urls: Partial<Record<Subject, string>>;
  readonly token: string;
  readonly bytes: number;
  readonly mode: string;
  /** The node's answer to the full read and its path, which the bare process serves the same. */
  readonly answer?: string;
  readonly path?: string;
}

interface Micro {
  readonly part: string;
  readonly usPerOp: number;
  readonly ops: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The node side (child process)

/** Runs `op` one at a time for `ms`, after a short warm-up; µs per op. */
async function timeIt(part: string, op: () => Promise<unknown>, ms: number): Promise<Micro> {
  for (let i = 0; i < 200; i++) await op();
  let ops = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await op();
    ops++;
  }
  return { part, usPerOp: ((performance.now() - t0) * 1000) / ops, ops };
}

async function nodeMain(): Promise<void> {
  const send = (m: unknown) => process.send!(m);
  const config = loadConfig(process.env);
  let payload: unknown;
  const authOnly = defineRoute({
    method: 'GET',
    path: '/bench/auth-only',
    summary: 'Bench only: the middleware chain and authentication, then a fixed answer.',
    auth: ['customer'],
    responses: { 200: 'the JSON of the full route' },
    handler(ctx) {
      ctx.set('Cache-Control', 'private, no-cache');
      ctx.body = payload;
    },
  });
  const node = await startNode(config, silentLogger(), { extraRoutes: [authOnly], onFatal: () => process.exit(1) });
  for (let i = 0; !node.runtime.readiness('bench').ready; i++) {
    if (i > 600) throw new Error('node not ready after 60 s');
    await sleep(100);
  }
  const db = await node.runtime.ask<PostgresMessage, 'lend'>(node.runtime.ref<PostgresMessage>('postgres'), 'lend', {}, 5_000);

  // A customer, their postpaid link and six bills of its account (fresh numbers: a real database may be reused).
  const userId = randomUUID();
  const linkId = randomUUID();
  const account = `9${randomInt(10_000_000, 99_999_999)}`;
  await db.query(`INSERT INTO users (id, phone, role, phone_proved_at, created_at) VALUES ($1, $2, 'customer', now(), now())`, [userId, `+22177${randomInt(1_000_000, 9_999_999)}`]);
  await insertLink(db, { id: linkId, userId, kind: 'postpaid', meter: account, agency: 'PIKINE' });
  const firstId = randomInt(1_000_000, 2_000_000_000);
  // PgHandle.query is the text form of pg.Pool.query, which is all insertTwinRows calls.
  await insertTwinRows(db as never, 'histh2mc."Historique"', Array.from({ length: 6 }, (_, i) => bill(firstId + i, `B${firstId + i}`, `2026-0${i + 1}-05T00:00:00Z`, i + 1, 2026, 10_000 + 1_000 * i, 100 + i, account)));

  const signing = node.keys.signing!;
  const token = await new SignJWT({ role: 'customer', agency: null })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(config.jwt.issuer)
    .setAudience(config.jwt.audience)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(signing.key);
  const fullPath = `/v1/meters/${linkId}/bills`;
  const first = await fetch(`${node.apiUrl}${fullPath}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await first.text();
  if (first.status !== 200) throw new Error(`the warm-up read answered ${first.status}: ${text}`);
  payload = JSON.parse(text);

  const mode = `${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite (embedded)'}, ${process.env.REDIS_URL ? 'Redis' : 'in-process cache'}`;
  send({ ready: { urls: { full: `${node.apiUrl}${fullPath}`, 'auth-only': `${node.apiUrl}/bench/auth-only` }, token, bytes: text.length, mode, answer: text, path: fullPath } satisfies Ready });

  process.on('message', (m: { cmd: string; microMs?: number }) => {
    void (async () => {
      if (m.cmd === 'micro') {
        const microMs = m.microMs ?? MICRO_MS;
        const caller: Caller = { userId, role: 'customer', agency: null };
        const verifier = createTokenVerifier({ jwks: node.keys.jwks, issuer: config.jwt.issuer, audience: config.jwt.audience });
        const reader = new CustomerDataReader({ asker: node.runtime, clock: new SystemClock(), queryTimeoutMs: config.sources.queryTimeoutMs });
        const parts: Micro[] = [
          await timeIt('JWT verification (ES256)', () => verifier.verify(token), microMs),
          await timeIt('link check in PostgreSQL (readableLink, rule 5, no cache)', () => readableLink(async () => db, caller, linkId), microMs),
          ...(node.links ? [await timeIt('link check from the link cache (readableLink, rule 5, hit)', () => readableLink(async () => db, caller, linkId, node.links), microMs)] : []),
          await timeIt('cached read (cache lend + get + JSON.parse)', () => reader.read(latestBills, { account, limit: 6 }), microMs),
          await timeIt('meter-data actor `bills` (hop + link check + cached read)', () => node.runtime.ask<MeterDataMessage, 'bills'>(node.runtime.ref<MeterDataMessage>('meter-data'), 'bills', { caller, linkId, query: {} }, 10_000), microMs),
        ];
        send({ micro: parts });
      } else if (m.cmd === 'stop') {
        await node.stop();
        process.exit(0);
      }
    })().catch((e: unknown) => send({ fatal: String(e) }));
  });
  answerCpu();
}

/** The bare subject's process: one Koa app, one @koa/router route answering the JSON the node answered. */
async function bareMain(): Promise<void> {
  const { answer, path: routePath } = await new Promise<{ answer: string; path: string }>((resolve) =>
    process.once('message', (m: { answer: string; path: string }) => resolve(m)),
  );
  const payload: unknown = JSON.parse(answer);
  const bare = new Koa();
  const router = new Router();
  router.get('/v1/meters/:linkId/bills', (ctx) => {
    ctx.body = payload;
  });
  bare.use(router.routes());
  const server = createServer(bare.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${routePath}`;
  process.send!({ ready: { urls: { bare: url }, token: '', bytes: answer.length, mode: 'bare' } satisfies Ready });
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'stop') server.close(() => process.exit(0));
  });
  answerCpu();
}

/** Answers the parent's `cpu` asks with this process's CPU time (µs, all threads). */
function answerCpu(): void {
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd !== 'cpu') return;
    const c = process.cpuUsage();
    process.send!({ cpu: c.user + c.system });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The load side (parent)

interface Run {
  readonly rps: number;
  /** CPU of the subject's process per request answered (µs): the node's, or the bare process's. */
  cpuPerReq?: number;
  readonly p99: number;
  readonly p50: number;
  readonly non2xx: number;
  readonly errors: number;
}

function load(url: string, token: string, seconds: number): Promise<Run & { total: number }> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, pipelining: 1, duration: seconds, headers: { authorization: `Bearer ${token}` } }, (err, r) => {
      if (err) reject(err);
      else resolve({ rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, non2xx: r.non2xx, errors: r.errors, total: r.requests.total });
    });
  });
}


interface Child {
  readonly child: ChildProcess;
  readonly ready: Promise<Ready>;
  micro(): Promise<Micro[]>;
  cpuUs(): Promise<number>;
}

/** A child process of this file: the node (`--node`) or the bare subject (`--bare`). */
function childOf(dir: string, role: 'node' | 'bare'): Child {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_OPTIONS', 'DATABASE_URL', 'REDIS_URL']) if (process.env[k] !== undefined) env[k] = process.env[k];
  Object.assign(env, { APP_ENV: 'development', HOST: '127.0.0.1', PORT: '0', OPS_PORT: '0', EMBEDDED_DATA_DIR: path.join(dir, 'pglite'), LOG_LEVEL: 'silent' });
  // --cpu-prof=DIR: a V8 CPU profile of each child process (the node's and the bare route's), written to DIR when it exits.
  const execArgv = [...process.execArgv, ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE_DIR)}`] : [])];
  const child = fork(fileURLToPath(import.meta.url), [`--${role}`], { env, execArgv: execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let microWaiter: ((m: Micro[]) => void) | undefined;
  let cpuWaiter: ((us: number) => void) | undefined;
  const ready = new Promise<Ready>((resolve, reject) => {
    child.on('message', (m: { ready?: Ready; micro?: Micro[]; cpu?: number; fatal?: string }) => {
      if (m.ready) resolve(m.ready);
      if (m.cpu !== undefined) cpuWaiter?.(m.cpu);
      if (m.micro) microWaiter?.(m.micro);
      if (m.fatal) reject(new Error(m.fatal));
    });
    child.on('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
  const micro = () =>
    new Promise<Micro[]>((resolve) => {
      microWaiter = resolve;
      child.send({ cmd: 'micro', microMs: MICRO_MS });
    });
  const cpuUs = () =>
    new Promise<number>((resolve) => {
      cpuWaiter = resolve;
      child.send({ cmd: 'cpu' });
    });
  return { child, ready, micro, cpuUs };
}

async function main(): Promise<void> {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`;
  const command = ['npx tsx bench/http.ts', ...process.argv.slice(2)].join(' ');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-http-'));
  const node = childOf(dir, 'node');
  const bare = childOf(dir, 'bare');
  try {
    const nodeReady = await node.ready;
    bare.child.send({ answer: nodeReady.answer, path: nodeReady.path });
    const ready: Ready = { ...nodeReady, urls: { ...nodeReady.urls, ...(await bare.ready).urls } };
    const processOf = (s: Subject): Child => (s === 'bare' ? bare : node);
    console.log(`http: ${machine}; node on ${ready.mode}; answer ${ready.bytes} bytes`);
    // Warm-up: JIT, pools and connections of every subject.
    for (const s of SUBJECTS) await load(ready.urls[s]!, ready.token, 2);
    const runs = new Map<Subject, Run[]>(SUBJECTS.map((s) => [s, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const i of SUBJECTS.keys()) {
        const s = SUBJECTS[(i + r) % SUBJECTS.length]!;
        const cpu0 = await processOf(s).cpuUs();
        const run = await load(ready.urls[s]!, ready.token, SECONDS);
        run.cpuPerReq = ((await processOf(s).cpuUs()) - cpu0) / run.total;
        if (run.non2xx || run.errors) throw new Error(`${s}: ${run.non2xx} non-2xx, ${run.errors} errors`);
        runs.get(s)!.push(run);
        console.log(`round ${r + 1}/${ROUNDS} ${s.padEnd(9)} ${Math.round(run.rps).toLocaleString('en-US').padStart(7)} req/s, p99 ${run.p99} ms, CPU ${Math.round(run.cpuPerReq)} µs/request`);
      }
    }
    const micro = await node.micro();

    const rps = (s: Subject) => median(runs.get(s)!.map((r) => r.rps));
    const p99 = (s: Subject) => median(runs.get(s)!.map((r) => r.p99));
    const p50 = (s: Subject) => median(runs.get(s)!.map((r) => r.p50));
    const cpu = (s: Subject) => median(runs.get(s)!.map((r) => r.cpuPerReq!));
    const labels: Record<Subject, string> = {
      full: 'GET /v1/meters/{linkId}/bills, cached (auth, validation, actor hop, link check, cache hit)',
      'auth-only': 'the same middleware chain and JWT auth, fixed JSON (no actor, no database, no cache)',
      bare: 'bare Koa + @koa/router, the same JSON',
    };
    const vsBare = (s: Subject) => (runs.has('bare') ? `${(rps(s) / rps('bare')).toFixed(2)}x` : '—');
    const rows = SUBJECTS.map((s) => `| ${s} | ${labels[s]} | ${Math.round(rps(s)).toLocaleString('en-US')} | ${p50(s)} | ${p99(s)} | ${Math.round(cpu(s))} | ${vsBare(s)} |`);
    const microRows = micro.map((m) => `| ${m.part} | ${m.usPerOp.toFixed(1)} | ${m.ops.toLocaleString('en-US')} |`);
    console.log(`\n${rows.join('\n')}\n\n${microRows.join('\n')}`);
    // A partial or profiled run is for looking at, not for the record.
    if (SUBJECTS.length === ALL_SUBJECTS.length && !PROFILE_DIR) {
      const ratio = rps('full') / rps('bare');
      const verdict = `full/bare = ${ratio.toFixed(2)}x (goal ≥ 0.7x, at least 0.5x: ${ratio >= 0.7 ? 'met' : ratio >= 0.5 ? 'above the floor, under the goal' : 'UNDER the floor'})`;
      console.log(`\n${verdict}`);
      const md = [
        '## http',
        '',
        `- date: ${new Date().toISOString()}`,
        `- machine: ${machine}`,
        `- command: \`${command}\``,
        `- node: a child process running startNode() on ${ready.mode}, LOG_LEVEL=silent; bare: a second child process; load (autocannon, ${CONNECTIONS} connections, no pipelining, no Accept-Encoding) in the parent process; the answer is ${ready.bytes} bytes of JSON (six bills).`,
        `- ${ROUNDS} rounds of ${SECONDS} s per subject, interleaved with the order rotated, after a 2 s warm-up each; medians. CPU per request: the CPU of the subject's process (the node's, or the bare process's; all threads) over the round / requests answered.`,
        '',
        '| subject | what it runs | req/s | p50 (ms) | p99 (ms) | CPU per request (µs) | vs bare |',
        '|---|---|---:|---:|---:|---:|---:|',
        ...rows,
        '',
        `Parts of one full read, timed one at a time in the node process with no load (${MICRO_MS} ms each):`,
        '',
        '| part | µs per op | ops |',
        '|---|---:|---:|',
        ...microRows,
        '',
        `${verdict}.`,
        '',
      ].join('\n');
      console.log(`\nwrote ${writeResultsSection('http', md)} (section "## http")`);
    }
  } finally {
    for (const { child } of [node, bare]) {
      if (child.exitCode !== null) continue;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      if (child.connected) child.send({ cmd: 'stop' });
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
  if (PROFILE_DIR) summariseProfile(path.resolve(PROFILE_DIR));
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

/** The main thread's CPU profile in `dir` (the largest: tsx's loader thread writes one too): self time by package and the top functions. */
function summariseProfile(dir: string): void {
  const newest = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!newest) return;
  const profile = JSON.parse(readFileSync(newest, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  // Shares of the busy time: idle is when the loop waited (on the load side, PostgreSQL, Redis).
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  for (const id of idle) self.delete(id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const where = (url: string): string => {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    if (pkg) return pkg;
    const own = /\/(src|http|actors|supervisors|bench|test)\//.exec(url)?.[1];
    return own ? `(project ${own}/)` : url.startsWith('node:') ? '(node core)' : url === '' ? '(native, GC)' : url;
  };
  const tally = (key: (n: ProfileNode) => string) => {
    const m = new Map<string, number>();
    for (const [id, us] of self) m.set(key(byId.get(id)!), (m.get(key(byId.get(id)!)) ?? 0) + us);
    return [...m].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  console.log(`\nprofile ${newest}: busy self time by package\n${tally((n) => where(n.callFrame.url)).join('\n')}`);
  console.log(`\ntop functions\n${tally((n) => `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`).join('\n')}`);
}

const childMain = process.argv.includes('--node') ? nodeMain : process.argv.includes('--bare') ? bareMain : undefined;
if (childMain) {
  childMain().catch((e: unknown) => {
    process.send?.({ fatal: String(e) });
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
