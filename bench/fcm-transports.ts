// Benchmark: FCM send throughput of firebase-admin's plain loops and of the product sender (src/adapters/fcm/fcm-sender.ts)
// with each transport, side by side in one run against the same fake FCM (test/support/fcm, real TLS with the
// test CA, HTTP/1.1 and HTTP/2 on one port), direct and through a CONNECT proxy:
//
//   admin-sendEach-h2   firebase-admin sendEach(500) over HTTP/2, --batches-in-flight batches at once (its best
//                       configuration per FACTS.md: 2–4), http2.connect redirected to the fake (redirectFcmHttp2)
//   admin-send-h1       firebase-admin send() over HTTP/1.1, keep-alive https.Agent (64 sockets), 200 in flight
//   sender-http1        createFcmSender transport 'http1'         (defaults: 200 in flight, 64 sockets)
//   sender-http2        createFcmSender transport 'http2'         (sendEach, redirected like admin-sendEach-h2)
//   sender-h2session    createFcmSender transport 'http2-session' (one kept-open session, default 100 streams)
//   proxy-http1         'http1' through the CONNECT proxy with the test CA as extra CA file
//   proxy-h2session     'http2-session' through the CONNECT proxy, same CA file
// Every sender subject sends batches of 500, --batches-in-flight at once.
//
// Processes: the fake FCM and the proxy each run in their own child process, and every (subject, round) in a
// fresh client process, so a subject's CPU and peak RSS are its own (resourceUsage().maxRSS of that process, warm-
// up included) and none inherits another's JIT, heap or open connections. The machine has 2 cores: the client, the
// fake (and the proxy, on the proxy rows) share them, as a worker and its network stack would not; the fake alone
// answers ~45,000 req/s (FACTS.md), so the ceiling here is the client's CPU, not the fake. The fake's own counts
// confirm every message reached it. Rounds are interleaved with the order rotated; medians are reported.
//
//   npx tsx bench/fcm-transports.ts [--messages=50000] [--rounds=3] [--batches-in-flight=3] [--warmup=2000]
//
// Writes the table into bench/RESULTS.md under "## fcm-transports". Not part of `npm test`.
import { fork, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import os from 'node:os';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { buildFcmMessage, type FcmMessage, type FcmNotification } from '../src/adapters/fcm/fcm-message.js';
import { createFcmSender, type FcmSender, type FcmSenderOptions } from '../src/adapters/fcm/fcm-sender.js';
import { startConnectProxy } from '../test/support/fcm/connect-proxy.js';
import { startFakeFcm, type FakeFcm } from '../test/support/fcm/fake-fcm-server.js';
import { redirectFcmHttp2 } from '../test/support/fcm/redirect-http2.js';
import { machineJiffies, median, option, textOption } from './bench-support.js';
import { writeResultsSection } from './results-file.js';

// ---------------------------------------------------------------------------------------------------------------
// Options



const MESSAGES = option('messages', 50_000);
const ROUNDS = option('rounds', 3);
const BATCHES_IN_FLIGHT = option('batches-in-flight', 3);
const WARMUP = option('warmup', 2_000);
const BATCH = 500;
const PLAIN_H1_IN_FLIGHT = 200;
const PLAIN_H1_SOCKETS = 64;
const PROJECT = 'samaconso-bench';
const SCRIPT = fileURLToPath(import.meta.url);

const SUBJECTS = [
  { key: 'admin-sendEach-h2', label: `firebase-admin sendEach(500) HTTP/2, ${BATCHES_IN_FLIGHT} batches in flight`, path: 'direct' },
  { key: 'admin-send-h1', label: `firebase-admin send() HTTP/1.1, ${PLAIN_H1_SOCKETS} sockets, ${PLAIN_H1_IN_FLIGHT} in flight`, path: 'direct' },
  { key: 'sender-http1', label: "sender 'http1'", path: 'direct' },
  { key: 'sender-http2', label: "sender 'http2' (sendEach)", path: 'direct' },
  { key: 'sender-h2session', label: "sender 'http2-session'", path: 'direct' },
  { key: 'proxy-http1', label: "sender 'http1'", path: 'CONNECT proxy' },
  { key: 'proxy-h2session', label: "sender 'http2-session'", path: 'CONNECT proxy' },
] as const;
type SubjectKey = (typeof SUBJECTS)[number]['key'];

/** What the client process reports for one (subject, round). */
interface ClientResult {
  subject: SubjectKey;
  messages: number;
  sent: number;
  seconds: number;
  /** CPU time of the client process (user + system) during the measured part, µs per message. */
  cpuUsPerMessage: number;
  /** resourceUsage().maxRSS of the client process, MB (its whole life, warm-up included). */
  peakRssMb: number;
  /** CPU of the client process over its whole life (start-up and warm-up included), seconds. */
  cpuSecondsTotal: number;
  /** Cores used by other processes on the machine while this client ran (machine busy time minus ours). */
  otherCores?: number;
  firstFailure?: string;
}

interface Endpoint {
  port: number;
  ca: string;
  caFile: string;
}

const credential = { getAccessToken: async () => ({ access_token: 'bench-access-token', expires_in: 3600 }) };
const notification: FcmNotification = {
  jobId: '0b5e1c1e-5d4f-4a43-9d1f-7a8c3e2b9f10',
  queue: 'urgent',
  type: { code: 'outage', ttlSeconds: 14_400, collapseKey: 'outage' },
  title: 'Coupure programmée',
  body: 'Une coupure est prévue sur votre secteur demain de 9 h à 12 h.',
  data: { meter: '14100234', sector: 'Dakar-Plateau' },
};

// ---------------------------------------------------------------------------------------------------------------
// Child roles: the fake FCM, the proxy, one client run.

async function serveFake(): Promise<void> {
  const fake: FakeFcm = await startFakeFcm({ record: 'counts' });
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'stats') process.send?.({ stats: fake.stats() });
    if (m.cmd === 'cpu') process.send?.({ cpu: cpuSeconds() });
    if (m.cmd === 'stop') void fake.close().then(() => process.exit(0));
  });
  process.send?.({ ready: { port: fake.port, ca: fake.ca, caFile: fake.caFile } satisfies Endpoint });
}

async function serveProxy(targetPort: number): Promise<void> {
  const proxy = await startConnectProxy({ target: { host: '127.0.0.1', port: targetPort } });
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'stats') process.send?.({ tunnels: proxy.tunnels() });
    if (m.cmd === 'cpu') process.send?.({ cpu: cpuSeconds() });
    if (m.cmd === 'stop') void proxy.close().then(() => process.exit(0));
  });
  process.send?.({ ready: { port: proxy.port } });
}

/** Sends `total` messages as units of `unit` messages, `concurrency` units at once; returns how many were sent. */
async function drive(
  label: string,
  total: number,
  unit: number,
  concurrency: number,
  send: (messages: FcmMessage[]) => Promise<number>,
  tokenPrefix: string,
  progress: boolean,
): Promise<number> {
  let next = 0;
  let sent = 0;
  let reported = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    while (next < total) {
      const from = next;
      next = Math.min(total, next + unit);
      const messages: FcmMessage[] = [];
      for (let i = from; i < next; i++) messages.push(buildFcmMessage(`${tokenPrefix}-${i}`, notification));
      const done = await send(messages); // not `sent += await …`: that reads `sent` before the await
      sent += done;
      if (progress && sent - reported >= 10_000) {
        reported = sent - (sent % 10_000);
        const rate = sent / ((performance.now() - started) / 1000);
        console.log(`    ${label}: ${sent.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${Math.round(rate).toLocaleString('en-US')} msg/s)`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return sent;
}

/** The first failure a client saw (reported with its result: a run with failures is not a measurement). */
let firstFailure: string | undefined;

async function runClient(subject: SubjectKey, fake: Endpoint, proxyPort: number): Promise<ClientResult> {
  const dial = { host: '127.0.0.1', port: fake.port };
  const cleanups: Array<() => Promise<void> | void> = [];
  let send: (messages: FcmMessage[]) => Promise<number>;
  let unit = BATCH;
  let concurrency = BATCHES_IN_FLIGHT;

  const sender = (options: Partial<FcmSenderOptions>): FcmSender => {
    const s = createFcmSender({ projectId: PROJECT, credential, transport: 'http1', ...options });
    cleanups.push(() => s.close());
    return s;
  };
  const viaSender = (s: FcmSender) => async (messages: FcmMessage[]) => {
    const outcomes = await s.sendBatch(messages);
    const failed = outcomes.find((o) => o.kind !== 'sent');
    if (failed) firstFailure ??= JSON.stringify(failed);
    return outcomes.filter((o) => o.kind === 'sent').length;
  };
  const redirect = (): void => {
    const r = redirectFcmHttp2({ port: fake.port, ca: fake.ca });
    cleanups.push(() => r.restore());
  };

  switch (subject) {
    case 'admin-sendEach-h2': {
      redirect();
      const app = initializeApp({ credential, projectId: PROJECT }, 'bench-sendEach');
      cleanups.push(() => deleteApp(app));
      const messaging = getMessaging(app);
      send = async (messages) => {
        const batch = await messaging.sendEach(messages);
        const failed = batch.responses.find((r) => !r.success);
        if (failed) firstFailure ??= `${failed.error?.code}: ${failed.error?.message}`;
        return batch.successCount;
      };
      break;
    }
    case 'admin-send-h1': {
      // The trust list as a secure context, not `ca`: https.Agent joins `ca` into its pool key on every request
      // (see makeAgent in src/adapters/fcm/fcm-agent.ts), which would cost this plain loop ~0.4 ms of CPU per send.
      const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, fake.ca] });
      const agent = new https.Agent({ keepAlive: true, maxSockets: PLAIN_H1_SOCKETS, secureContext });
      (agent as unknown as { createConnection: (o: tls.ConnectionOptions) => unknown }).createConnection = (o) =>
        tls.connect({ ...o, host: dial.host, port: dial.port, servername: o.servername ?? o.host ?? undefined });
      cleanups.push(() => agent.destroy());
      const app = initializeApp({ credential, projectId: PROJECT, httpAgent: agent }, 'bench-send');
      cleanups.push(() => deleteApp(app));
      const messaging = getMessaging(app);
      send = async (messages) => {
        await messaging.send(messages[0] as FcmMessage);
        return 1;
      };
      unit = 1;
      concurrency = PLAIN_H1_IN_FLIGHT;
      break;
    }
    case 'sender-http1':
      send = viaSender(sender({ transport: 'http1', dialOverride: dial, extraCaFile: fake.caFile }));
      break;
    case 'sender-http2':
      redirect();
      send = viaSender(sender({ transport: 'http2' }));
      break;
    case 'sender-h2session':
      send = viaSender(sender({ transport: 'http2-session', dialOverride: dial, extraCaFile: fake.caFile }));
      break;
    case 'proxy-http1':
      send = viaSender(sender({ transport: 'http1', proxyUrl: `http://127.0.0.1:${proxyPort}`, extraCaFile: fake.caFile }));
      break;
    case 'proxy-h2session':
      send = viaSender(sender({ transport: 'http2-session', proxyUrl: `http://127.0.0.1:${proxyPort}`, extraCaFile: fake.caFile }));
      break;
  }

  try {
    await drive(`${subject} warm-up`, WARMUP, unit, concurrency, send, 'warm', false);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const sent = await drive(subject, MESSAGES, unit, concurrency, send, 'tok', true);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      subject,
      messages: MESSAGES,
      sent,
      seconds,
      cpuUsPerMessage: (cpu.user + cpu.system) / MESSAGES,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      cpuSecondsTotal: cpuSeconds(),
      ...(firstFailure ? { firstFailure } : {}),
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: orchestration and report.

function spawn(args: string[]): ChildProcess {
  return fork(SCRIPT, args, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => {
      if (key in m) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m[key] as T);
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`child ${child.pid} exited (${code}) before sending "${key}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Busy CPU seconds of the whole machine so far (/proc/stat; undefined where there is none). */
function machineBusySeconds(): number | undefined {
  const j = machineJiffies();
  return j === undefined ? undefined : j.busy / 100; // USER_HZ
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpu}, ${os.cpus().length} cores, Node ${process.version}`;
  const command = ['npx tsx bench/fcm-transports.ts', ...process.argv.slice(2)].join(' ');
  console.log(`fcm-transports: ${machine}`);
  console.log(`${MESSAGES.toLocaleString('en-US')} messages per subject and round (after ${WARMUP} warm-up), ${ROUNDS} rounds, batches of ${BATCH}, ${BATCHES_IN_FLIGHT} batches in flight\n`);

  const fakeChild = spawn(['--role=fake']);
  const fake = await nextMessage<Endpoint>(fakeChild, 'ready');
  const proxyChild = spawn(['--role=proxy', `--target=${fake.port}`]);
  const { port: proxyPort } = await nextMessage<{ port: number }>(proxyChild, 'ready');
  console.log(`fake FCM on 127.0.0.1:${fake.port} (pid ${fakeChild.pid}), CONNECT proxy on 127.0.0.1:${proxyPort} (pid ${proxyChild.pid})\n`);

  const results = new Map<SubjectKey, ClientResult[]>(SUBJECTS.map((s) => [s.key, []]));
  let expectedAtFake = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const order = SUBJECTS.map((_, i) => SUBJECTS[(i + round - 1) % SUBJECTS.length] as (typeof SUBJECTS)[number]);
      for (const subject of order) {
        console.log(`[round ${round}/${ROUNDS}] ${subject.key} (${subject.label}, ${subject.path})`);
        const cpuOf = async (child: ChildProcess): Promise<number> => {
          child.send({ cmd: 'cpu' });
          return nextMessage<number>(child, 'cpu');
        };
        const servedBefore = (await cpuOf(fakeChild)) + (await cpuOf(proxyChild)) + cpuSeconds();
        const busyBefore = machineBusySeconds();
        const startedAt = performance.now();
        const client = spawn(['--role=client', `--subject=${subject.key}`, `--fake=${JSON.stringify(fake)}`, `--proxy=${proxyPort}`, ...process.argv.slice(2)]);
        const result = await nextMessage<ClientResult>(client, 'result');
        await new Promise((r) => client.once('exit', r));
        const busyAfter = machineBusySeconds();
        const ours = (await cpuOf(fakeChild)) + (await cpuOf(proxyChild)) + cpuSeconds() - servedBefore + result.cpuSecondsTotal;
        if (busyBefore !== undefined && busyAfter !== undefined) {
          result.otherCores = Math.max(0, (busyAfter - busyBefore - ours) / ((performance.now() - startedAt) / 1000));
        }
        if (result.sent !== result.messages) throw new Error(`${subject.key}: only ${result.sent} of ${result.messages} sent; first failure: ${result.firstFailure}`);
        expectedAtFake += result.messages + WARMUP;
        results.get(subject.key)?.push(result);
        console.log(`  → ${fmt(result.messages / result.seconds)} msg/s, ${result.cpuUsPerMessage.toFixed(1)} µs CPU/msg, peak RSS ${Math.round(result.peakRssMb)} MB, other processes ${result.otherCores?.toFixed(2) ?? '?'} cores\n`);
      }
    }
    fakeChild.send({ cmd: 'stats' });
    const stats = await nextMessage<{ delivered: number; requests: number; byHttpVersion: Record<string, number> }>(fakeChild, 'stats');
    proxyChild.send({ cmd: 'stats' });
    const tunnels = await nextMessage<number>(proxyChild, 'tunnels');
    console.log(`fake FCM: ${fmt(stats.delivered)} delivered (expected ${fmt(expectedAtFake)}), by HTTP version ${JSON.stringify(stats.byHttpVersion)}; proxy tunnels: ${tunnels}`);
    if (stats.delivered !== expectedAtFake) throw new Error('the fake FCM did not count every message');

    // Table
    const rate = (key: SubjectKey): number => median((results.get(key) ?? []).map((r) => r.messages / r.seconds));
    const plainH2 = rate('admin-sendEach-h2');
    const plainH1 = rate('admin-send-h1');
    const header = ['subject', 'path', 'median msg/s', 'min–max msg/s', 'vs sendEach h2', 'vs send() h1', 'client CPU µs/msg', 'peak RSS (MB)', 'other processes (cores)'];
    const rows = SUBJECTS.map((s) => {
      const rs = results.get(s.key) ?? [];
      const rates = rs.map((r) => r.messages / r.seconds);
      return [
        `${s.label}`,
        s.path,
        fmt(rate(s.key)),
        `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}`,
        `${(rate(s.key) / plainH2).toFixed(2)}x`,
        `${(rate(s.key) / plainH1).toFixed(2)}x`,
        median(rs.map((r) => r.cpuUsPerMessage)).toFixed(1),
        fmt(Math.max(...rs.map((r) => r.peakRssMb))),
        median(rs.map((r) => r.otherCores ?? Number.NaN)).toFixed(2),
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
    console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
    for (const r of rows) console.log(line(r));

    const session = rate('sender-h2session');
    const http1 = rate('sender-http1');
    const proxied = rate('proxy-h2session');
    const proxiedHttp1 = rate('proxy-http1');
    const verdict =
      `'http2-session' vs 'http1': ${(session / http1).toFixed(2)}x direct, ${(proxied / proxiedHttp1).toFixed(2)}x through the proxy ` +
      `(${fmt(session)} vs ${fmt(http1)} msg/s; ${fmt(proxied)} vs ${fmt(proxiedHttp1)} msg/s).`;
    console.log(`\n${verdict}`);

    const md = [
      '## fcm-transports',
      '',
      `- date: ${new Date().toISOString()}`,
      `- machine: ${machine}`,
      `- command: \`${command}\``,
      `- ${fmt(MESSAGES)} messages per subject and round after ${fmt(WARMUP)} warm-up, ${ROUNDS} rounds interleaved (order rotated), medians; batches of ${BATCH}, ${BATCHES_IN_FLIGHT} batches in flight (plain send(): ${PLAIN_H1_IN_FLIGHT} messages in flight on ${PLAIN_H1_SOCKETS} keep-alive sockets).`,
      '- fake FCM (test/support/fcm, TLS with the test CA, verification on) and the CONNECT proxy each in their own process; each subject and round in a fresh client process (peak RSS = its maxRSS); 2 cores shared by client, fake and proxy.',
      "- sender defaults: 'http1' 200 in flight on 64 sockets; 'http2-session' one session, 100 streams; 'http2' and plain sendEach reach the fake through redirectFcmHttp2 (in-process http2.connect wrapper).",
      "- 'http1' here already has two fixes made with this benchmark (src/adapters/fcm/fcm-sender.ts makeAgent): the extra CA goes to the agent as a secure context, not `ca` (https.Agent joined all ~140 roots into its pool key on every request), and the proxy agent no longer probes a stack trace per request (agent-base isSecureEndpoint). Before them an earlier run of this file measured 'http1' at ~1,700 msg/s and ~500 µs CPU/msg direct, ~3,900 msg/s and ~220 µs through the proxy.",
      '- other processes: cores used on the machine by anything but this run (/proc/stat minus the CPU of the client, fake, proxy and parent), median over rounds; the machine is shared.',
      `- the fake counted ${fmt(stats.delivered)} delivered, every message of every run; proxy tunnels opened: ${tunnels}.`,
      '',
      `| ${header.join(' | ')} |`,
      `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      verdict,
      '',
    ].join('\n');
    const file = writeResultsSection('fcm-transports', md);
    console.log(`\nwrote ${file} (section "## fcm-transports")`);
  } finally {
    fakeChild.send({ cmd: 'stop' });
    proxyChild.send({ cmd: 'stop' });
  }
}

const role = textOption('role');
if (role === 'fake') {
  void serveFake();
} else if (role === 'proxy') {
  void serveProxy(Number(textOption('target')));
} else if (role === 'client') {
  const subject = textOption('subject') as SubjectKey;
  const fake = JSON.parse(textOption('fake') ?? '{}') as Endpoint;
  runClient(subject, fake, Number(textOption('proxy')))
    .then((result) => process.send?.({ result }, () => process.exit(0)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
