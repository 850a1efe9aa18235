// bench/dispatch.ts --workers=N: the same broadcast sent by one worker process and by N worker processes side by
// side, in one run, against the one fake FCM: sends/s of each configuration and their ratio, and how the N workers
// split the work (each worker's own /metrics count of sends answered, checked against the fake's total).
//
// Each configuration starts fresh worker processes (FCM_WORKER_COUNT set to their number, as a deployment would),
// warms them up with a small job, then times the broadcast from the POST to the fake having answered every token.
// With --rounds=R the configurations alternate R times (1, N, 1, N, …), so that a machine getting busier or quieter
// during the run does not favour one of them; each timed broadcast is measured again (up to --attempts) when other
// processes used more than --noisy-cores during it, and the least disturbed attempt is kept.
import type { NodeProcess } from '../../test/support/worker-process.js';
import { metricValue } from '../../test/support/metrics.js';
import { median } from '../bench-support.js';

/** What the bench process lends this mode (its fake FCM, its API node, its CPU meter). */
export interface WorkersBench {
  readonly devices: number;
  readonly attempts: number;
  readonly noisyCores: number;
  /** A ready worker process of the default variant, under `nodeId`, one of `workerCount`. */
  startWorker(nodeId: string, workerCount: number): Promise<NodeProcess>;
  stopWorker(worker: NodeProcess): Promise<void>;
  /** POSTs the agency job (BENCH: the timed broadcast to every device; WARM: the warm-up); returns its id. */
  post(agency: 'BENCH' | 'WARM'): Promise<string>;
  warmTokens: number;
  /** Sends the fake answered 200 so far. */
  delivered(): number;
  waitDelivered(base: number, count: number, label: string, timeoutMs: number, t0: number): Promise<void>;
  jobSettled(id: string, timeoutMs: number): Promise<void>;
  waitForQuiet(): Promise<unknown>;
  /** Starts a CPU window; its end gives cores per process group ('other' = the rest of the machine) and a text. */
  cpuWindow(): () => { other: number; text: string };
}

export interface WorkersRun {
  readonly workers: number;
  readonly round: number;
  readonly tokens: number;
  readonly seconds: number;
  readonly rate: number;
  readonly settledSeconds: number;
  /** Sends each worker counted as answered 'sent' during the broadcast (its own /metrics). */
  readonly perWorker: number[];
  readonly cpu: string;
  readonly other: number;
  readonly attempts: number;
  readonly failedNote?: string;
}

const SENT = 'samaconso_fcm_outcomes{outcome="sent"}';
const sentBy = async (w: NodeProcess): Promise<number> => (await metricValue(w, SENT)) ?? 0;

/** Starts `count` workers, warms them up, times the broadcast (least disturbed of the attempts), stops them. */
async function measure(b: WorkersBench, count: number, round: number): Promise<WorkersRun> {
  const label = `${count} worker${count > 1 ? 's' : ''}`;
  console.log(`\n[workers: ${label}, round ${round}] starting ${count} worker process(es)`);
  const workers = await Promise.all(Array.from({ length: count }, (_, i) => b.startWorker(`bench-worker-${i + 1}`, count)));
  try {
    const warmBase = b.delivered();
    const warm = await b.post('WARM');
    await b.waitDelivered(warmBase, b.warmTokens, `${label} warm-up`, 120_000, performance.now());
    await b.jobSettled(warm, 60_000);
    let best: WorkersRun | undefined;
    for (let attempt = 1; attempt <= b.attempts; attempt++) {
      await b.waitForQuiet();
      const before = await Promise.all(workers.map(sentBy));
      const base = b.delivered();
      const cpu = b.cpuWindow();
      const t0 = performance.now();
      const id = await b.post('BENCH');
      let failedNote: string | undefined;
      await b.waitDelivered(base, b.devices, label, 1_800_000, t0).catch((e: unknown) => (failedNote = String(e)));
      const seconds = (performance.now() - t0) / 1000;
      const split = cpu();
      await b.jobSettled(id, 300_000).catch((e: unknown) => (failedNote ??= String(e)));
      const settledSeconds = (performance.now() - t0) / 1000;
      const perWorker = (await Promise.all(workers.map(sentBy))).map((n, i) => n - before[i]!);
      const tokens = b.delivered() - base;
      const run: WorkersRun = { workers: count, round, tokens, seconds, rate: tokens / seconds, settledSeconds, perWorker, cpu: split.text, other: split.other, attempts: attempt, ...(failedNote ? { failedNote } : {}) };
      console.log(`  ${tokens.toLocaleString('en-US')} in ${seconds.toFixed(2)} s = ${Math.round(run.rate).toLocaleString('en-US')} sends/s; per worker ${perWorker.join(' / ')}; CPU: ${split.text}${failedNote ? `; PROBLEM: ${failedNote}` : ''}`);
      if (!best || split.other < best.other) best = run;
      best = { ...best, attempts: attempt };
      if (split.other <= b.noisyCores || failedNote) break;
      if (attempt < b.attempts) console.log(`  disturbed (other processes used ${split.other.toFixed(2)} cores): measuring again`);
    }
    return best!;
  } finally {
    await Promise.all(workers.map((w) => b.stopWorker(w)));
  }
}

/** One worker, then `n`, alternating `rounds` times. */
export async function runWorkersComparison(b: WorkersBench, n: number, rounds: number): Promise<WorkersRun[]> {
  const runs: WorkersRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? [1, n] : [n, 1];
    for (const count of order) runs.push(await measure(b, count, round));
  }
  return runs;
}

const fmt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');

/** The "## dispatch workers" section of bench/RESULTS.md. */
export function workersSection(runs: readonly WorkersRun[], n: number, meta: { date: string; machine: string; command: string; minutes: number; settings: string; noisyCores: number }): string {
  const one = runs.filter((r) => r.workers === 1);
  const many = runs.filter((r) => r.workers === n);
  const rateOne = median(one.map((r) => r.rate));
  const rateMany = median(many.map((r) => r.rate));
  const ratio = rateMany / rateOne;
  const busy = runs.some((r) => r.other > meta.noisyCores);
  const rows = runs.map(
    (r) =>
      `| ${r.round} | ${r.workers} | ${fmt(r.tokens)} | ${r.seconds.toFixed(2)} | ${fmt(r.rate)} | ${r.perWorker.map(fmt).join(' / ')} | ${r.settledSeconds.toFixed(2)} | ${r.cpu} | ${r.attempts} |${r.failedNote ? ` PROBLEM: ${r.failedNote}` : ''}`,
  );
  return [
    '## dispatch workers',
    '',
    `- date: ${meta.date}`,
    `- machine: ${meta.machine}`,
    `- command: \`${meta.command}\` (this run took ${meta.minutes.toFixed(0)} min, seeding and process starts included). Self-contained: it needs only the services of ops/services.sh (\`bash ops/services.sh start\`); it makes and removes its own database, vhost, Redis keys, fake FCM, proxy, API and worker processes. Without options (100,000 devices, each timed broadcast measured up to 3 times when other processes are busy, after waiting up to 45 s for a quiet machine) it takes an estimated 5 minutes on a quiet machine, up to ~25 on a busy one.`,
    `- workload: one agency job of type monthly_summary (normal queue) to ${fmt(one[0]?.tokens ?? NaN)} devices, the same job for each configuration; the default variant (http2-session through the CONNECT proxy), ${meta.settings}. Timed from the POST to the fake FCM having answered every token; "per worker" is each worker's own count of sends answered (samaconso_fcm_outcomes{outcome="sent"}, its /metrics), which adds up to the fake's. Each configuration in fresh worker processes, warmed up by a small job; the CPU column's "worker node" is all worker processes together.`,
    '',
    '| round | worker processes | sends | time (s) | sends/s | per worker | job settled (s) | CPU during the run (cores) | attempts |',
    '|---:|---:|---:|---:|---:|---|---:|---|---:|',
    ...rows,
    '',
    `${n} workers / 1 worker: ${fmt(rateMany)} / ${fmt(rateOne)} sends/s = **${ratio.toFixed(2)}x** (medians over the rounds).`,
    '',
    `On this 2-core machine this measures the cost of coordination, not a speed-up. On a quiet machine one worker and what it talks to already use both cores (the "## dispatch" section: worker node ~1.0, fake FCM ~0.5, PostgreSQL ~0.3 cores), so a second worker process adds no CPU, only more of what the workers share: two consumers per queue, batch claims and ledger writes from two processes on one PostgreSQL, two leases on the one Redis rate bucket, more threads for the OS to schedule. Scale-out pays on separate hosts; this run bounds what two workers cost where they cannot help.`,
    '',
    busy
      ? `Taken under load: other processes on the machine used ${Math.min(...runs.map((r) => r.other)).toFixed(2)}–${Math.max(...runs.map((r) => r.other)).toFixed(2)} cores during the timed broadcasts (the "other" CPU column), more than the --noisy-cores threshold. Under contention the ratio follows what the other processes happen to do, either way (two worker processes may get a larger or a smaller share of the machine than one); the figures to compare are a quiet machine's (re-run the command).`
      : 'Other processes stayed under the --noisy-cores threshold during every timed broadcast (the "other" CPU column).',
    '',
  ].join('\n');
}
