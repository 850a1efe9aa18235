// bench/dispatch.ts --memory: where the worker node's memory goes during one large broadcast.
//
// Two witnesses, sampled side by side every --memory-interval-ms:
//   - the kernel's: VmRSS of the worker process (/proc/<pid>/status), read from the bench process;
//   - each thread's own: memory-sampler.mjs, preloaded into the worker node (NODE_OPTIONS --import), appends
//     process.memoryUsage() and V8's young/old generation sizes of the main thread and of every piscina thread to a
//     file (one JSON line per thread and sample).
// Phases: 'idle' (the worker started, warmed up by a small job, then left alone), 'broadcast' (from the POST to the
// job settled), 'after' (left alone again). Growth = the broadcast's peak VmRSS minus the idle median.
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export type MemoryPhase = 'idle' | 'broadcast' | 'after';

/** One line of memory-sampler.mjs. */
interface ThreadSample {
  t: number;
  thread: string;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  young: number;
  old: number;
  limit: number;
}

/** What one thread's isolate held: median while idle, largest during the broadcast (bytes). */
export interface ThreadMemory {
  thread: string;
  /** V8's heap limit of the isolate (old generation + young generation maximum) */
  limit: number;
  idle: { heapTotal: number; young: number; old: number; external: number };
  peak: { heapTotal: number; young: number; old: number; external: number; heapUsed: number };
}

export interface MemoryRun {
  label: string;
  /** worker settings this run adds to the variant's */
  env: Record<string, string>;
  tokens: number;
  seconds: number;
  rate: number;
  /** VmRSS (bytes): idle median, broadcast peak, median of the phase after */
  idleRss: number;
  peakRss: number;
  afterRss: number;
  /** the peak's sample time, seconds after the POST */
  peakAt: number;
  threads: ThreadMemory[];
  failedNote?: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

/** VmRSS (bytes) of a live process; undefined when it is gone. */
function vmRss(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples one worker process: its VmRSS from here, its threads' own figures from memory-sampler.mjs's file. */
export class MemoryRecorder {
  readonly file: string;
  private readonly rss: Array<{ t: number; phase: MemoryPhase | undefined; rss: number }> = [];
  private readonly marks: Array<{ t: number; phase: MemoryPhase | undefined }> = [];
  private phase: MemoryPhase | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    tag: string,
    private readonly intervalMs: number,
  ) {
    this.file = join(os.tmpdir(), `bench-dispatch-memory-${tag}.jsonl`);
    rmSync(this.file, { force: true });
  }

  /** Settings that load the sampler into the worker node (appended to any NODE_OPTIONS it already has). */
  env(nodeOptions: string | undefined): Record<string, string> {
    const preload = `--import ${new URL('./memory-sampler.mjs', import.meta.url).href}`;
    return { NODE_OPTIONS: nodeOptions ? `${nodeOptions} ${preload}` : preload, BENCH_MEMORY_FILE: this.file, BENCH_MEMORY_INTERVAL_MS: String(this.intervalMs) };
  }

  start(pid: number): void {
    this.timer = setInterval(() => {
      const rss = vmRss(pid);
      if (rss !== undefined) this.rss.push({ t: Date.now(), phase: this.phase, rss });
    }, this.intervalMs);
  }

  /** From now on, samples belong to `phase` (undefined: to none). */
  enter(phase: MemoryPhase | undefined): void {
    this.phase = phase;
    this.marks.push({ t: Date.now(), phase });
  }

  /** Stops sampling, reads the threads' file (then removes it) and sums up the run. */
  finish(run: Omit<MemoryRun, 'idleRss' | 'peakRss' | 'afterRss' | 'peakAt' | 'threads'> & { postedAt: number }): MemoryRun {
    clearInterval(this.timer);
    const phaseAt = (t: number): MemoryPhase | undefined => [...this.marks].reverse().find((m) => m.t <= t)?.phase;
    const samples = readFileSync(this.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ThreadSample);
    rmSync(this.file, { force: true });
    const of = (phase: MemoryPhase) => this.rss.filter((s) => s.phase === phase);
    const peak = of('broadcast').reduce((a, s) => (s.rss > a.rss ? s : a), { t: run.postedAt, rss: -Infinity, phase: 'broadcast' });
    const threads: ThreadMemory[] = [];
    for (const thread of [...new Set(samples.map((s) => s.thread))]) {
      const mine = samples.filter((s) => s.thread === thread);
      // A pool thread waiting for work blocks in Atomics.wait (piscina) and takes no samples: its idle figures are
      // its last sample before the broadcast (taken while it ran the warm-up, or at its start).
      const before = mine.filter((s) => s.t < run.postedAt).at(-1);
      const busy = mine.filter((s) => phaseAt(s.t) === 'broadcast');
      const idle = (k: keyof ThreadSample) => (before ? (before[k] as number) : NaN);
      const max = (k: keyof ThreadSample) => (busy.length ? Math.max(...busy.map((s) => s[k] as number)) : NaN);
      threads.push({
        thread,
        limit: mine[0]!.limit,
        idle: { heapTotal: idle('heapTotal'), young: idle('young'), old: idle('old'), external: idle('external') },
        peak: { heapTotal: max('heapTotal'), young: max('young'), old: max('old'), external: max('external'), heapUsed: max('heapUsed') },
      });
    }
    threads.sort((a, b) => (a.thread === 'main' ? -1 : b.thread === 'main' ? 1 : a.thread.localeCompare(b.thread, 'en', { numeric: true })));
    return {
      ...run,
      idleRss: median(of('idle').map((s) => s.rss)),
      peakRss: peak.rss,
      afterRss: median(of('after').map((s) => s.rss)),
      peakAt: (peak.t - run.postedAt) / 1000,
      threads,
    };
  }
}

const MB = 1024 * 1024;
const mbs = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / MB).toFixed(0) : '—');
const grew = (from: number, to: number): string => (Number.isFinite(from) && Number.isFinite(to) ? `${to >= from ? '+' : ''}${((to - from) / MB).toFixed(0)}` : '—');

/** The growth of the V8 heaps (all threads) at their peaks, against the process's RSS growth. */
export const heapGrowth = (r: MemoryRun): number => r.threads.reduce((a, t) => a + (Number.isFinite(t.peak.heapTotal) ? t.peak.heapTotal - t.idle.heapTotal : 0), 0);

/** The tables of the memory section: one row per run, then each run's threads. */
export function memoryTables(runs: readonly MemoryRun[], goalMb: number, fmt: (n: number) => string): string[] {
  const out: string[] = [];
  out.push('| run | worker settings | devices | sends/s | idle RSS (MB) | peak RSS (MB) | growth (MB) | peak at (s after POST) | RSS after (MB) | V8 heaps\' growth, all threads (MB) | goal: growth < ' + `${goalMb} MB |`);
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of runs) {
    const growth = (r.peakRss - r.idleRss) / MB;
    const settings = Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(', ') || 'product defaults';
    out.push(
      `| ${r.label} | ${settings} | ${fmt(r.tokens)} | ${fmt(r.rate)} | ${mbs(r.idleRss)} | ${mbs(r.peakRss)} | ${grew(r.idleRss, r.peakRss)} | ${r.peakAt.toFixed(0)} | ${mbs(r.afterRss)} | ${grew(0, heapGrowth(r))} | ${growth < goalMb ? 'met' : `missed by ${(growth - goalMb).toFixed(0)} MB`}${r.failedNote ? ` (PROBLEM: ${r.failedNote.slice(0, 200)})` : ''} |`,
    );
  }
  for (const r of runs) {
    out.push('', `Per thread, run "${r.label}" (MB; idle = last sample before the POST, peak = largest sample during the broadcast; young/old = V8's new and old space, external = ArrayBuffers and other memory V8 accounts outside its heap):`, '');
    out.push('| thread | heap limit | heapTotal idle → peak | young idle → peak | old idle → peak | heapUsed peak | external idle → peak |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const t of r.threads) {
      out.push(
        `| ${t.thread === 'main' ? 'main (consumers, fan-out, scheduler, database)' : `FCM pool ${t.thread}`} | ${mbs(t.limit)} | ${mbs(t.idle.heapTotal)} → ${mbs(t.peak.heapTotal)} | ${mbs(t.idle.young)} → ${mbs(t.peak.young)} | ${mbs(t.idle.old)} → ${mbs(t.peak.old)} | ${mbs(t.peak.heapUsed)} | ${mbs(t.idle.external)} → ${mbs(t.peak.external)} |`,
      );
    }
  }
  return out;
}
