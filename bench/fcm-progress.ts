// Benchmark: the FCM pool (piscina threads, the default http2-session transport through the CONNECT proxy, the fake
// FCM of test/support/fcm in this process) sending the same batches with and without their answers told while in
// flight (issue 9's in-batch progress: chunks posted back over a MessagePort per batch), in alternating rounds of
// one run. Isolates what progress costs the sender path from the rest of the worker (the handler's step writes are
// not in it; `npm run bench:dispatch -- --variants=proxy-http2-session,proxy-http2-session-no-progress` has those).
// CPU is the whole process's (threads, and the fake: the same in both).
//
//   npm run bench:fcm-progress -- [--rounds=3] [--batches=120] [--no-write]
import { buildFcmMessage, type FcmNotification } from '../src/adapters/fcm/fcm-message.js';
import { createFcmPool } from '../src/adapters/fcm/fcm-pool.js';
import { startFcmWorld } from '../test/support/dispatch.js';
import { option } from './bench-support.js';
import { writeResultsSection } from './results-file.js';

const ROUNDS = option('rounds', 3);
const BATCHES = option('batches', 120);
const IN_FLIGHT = 4;
const BATCH = 500;
const notification: FcmNotification = {
  jobId: '4f1d7c2a-9b3e-4e5f-8a6b-1c2d3e4f5a6b',
  queue: 'normal',
  type: { code: 'monthly_summary', ttlSeconds: 86_400, collapseKey: null },
  title: 'Résumé',
  body: 'Votre consommation du mois',
};

const world = await startFcmWorld({ record: 'counts' });
const pool = createFcmPool({
  threads: 2,
  maxInFlight: IN_FLIGHT,
  sender: { projectId: world.env.FCM_PROJECT_ID!, credential: world.env.FCM_CREDENTIALS_FILE!, transport: 'http2-session', proxyUrl: world.proxy.url, extraCaFile: world.fake.caFile, maxInFlight: 200, sessions: 2 },
});
const batches = Array.from({ length: IN_FLIGHT }, (_, b) => Array.from({ length: BATCH }, (_, i) => buildFcmMessage(`tok-${b}-${i}-${'x'.repeat(120)}`, notification)));

interface Round {
  readonly progress: boolean;
  readonly rate: number;
  readonly cpuUsPerSend: number;
  readonly told: number;
}

async function round(progress: boolean, n: number): Promise<Round> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let told = 0;
  const listener = { onAnswers: (a: readonly unknown[]) => void (told += a.length), chunking: { step: 200, flushMs: 200 } };
  for (let i = 0; i < n; i += IN_FLIGHT) await Promise.all(batches.map((m) => pool.sendBatch(m, false, progress ? listener : undefined)));
  const c = process.cpuUsage(c0);
  const sends = n * BATCH;
  return { progress, rate: sends / ((performance.now() - t0) / 1000), cpuUsPerSend: (c.user + c.system) / sends, told };
}

try {
  await round(false, 40); // warm-up: threads, sessions, JIT
  await round(true, 40);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const progress of r % 2 === 0 ? [false, true] : [true, false]) {
      const x = await round(progress, BATCHES);
      rounds.push(x);
      console.log(`${progress ? 'progress on ' : 'progress off'} ${x.rate.toFixed(0)} sends/s, ${x.cpuUsPerSend.toFixed(1)} µs CPU/send, ${x.told} answers told`);
    }
  }
  const mean = (on: boolean, f: (r: Round) => number) => rounds.filter((r) => r.progress === on).reduce((s, r) => s + f(r), 0) / ROUNDS;
  const rows = rounds.map((r, i) => `| ${Math.floor(i / 2) + 1} | ${r.progress ? 'on' : 'off'} | ${r.rate.toFixed(0)} | ${r.cpuUsPerSend.toFixed(1)} | ${r.told} |`);
  const section = [
    '## fcm-progress',
    '',
    `- date: ${new Date().toISOString()}; command: \`npm run bench:fcm-progress${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``,
    `- the FCM pool alone (2 threads, http2-session, 2 sessions × 100 streams per thread, via the CONNECT proxy, fake FCM in this process), ${IN_FLIGHT} batches of ${BATCH} in flight, ${BATCHES} batches per round, rounds alternating which goes first; progress on = answers told in chunks of 200 (or after 200 ms) over a MessagePort per batch, as the worker does`,
    '',
    '| round | progress | sends/s | process CPU µs/send | answers told |',
    '|---:|---|---:|---:|---:|',
    ...rows,
    '',
    `Mean: on ${mean(true, (r) => r.rate).toFixed(0)} sends/s, ${mean(true, (r) => r.cpuUsPerSend).toFixed(1)} µs/send; off ${mean(false, (r) => r.rate).toFixed(0)} sends/s, ${mean(false, (r) => r.cpuUsPerSend).toFixed(1)} µs/send (on/off ${(mean(true, (r) => r.rate) / mean(false, (r) => r.rate)).toFixed(2)}x). Answers told are fewer than sent: a chunk not yet told when its batch completes is dropped, the batch's result carries it.`,
    '',
  ].join('\n');
  console.log(`\n${section}`);
  if (!process.argv.includes('--no-write')) console.log(`wrote ${writeResultsSection('fcm-progress', section)}`);
} finally {
  await pool.close();
  await world.close();
}
