// Benchmark: the cost of one request round-trip (ask → reply) through
//   (a) the supervision layer: runtime.ask to an actor started from a supervisor spec (SystemClock, silent logger),
//   (b) bare nact: query to a bare actor that replies by dispatching to the temp ref,
//   (c) a direct async function call (the floor),
// one at a time (sequential) and with many in flight (concurrent). Warm-up first, then several rounds with the
// subjects interleaved; reports the median ops/s, µs per round-trip, the overhead over a direct call and the
// layer/bare ratio (goal: ≤ 2x). Writes the table into bench/RESULTS.md under "## actor-hop".
//
//   npx tsx bench/actor-hop.ts [--rounds=5] [--round-ms=1000] [--concurrency=100]
//
// Not part of `npm test`.
import os from 'node:os';
import { dispatch, query, spawn, start, stop, type Ref } from 'nact';
import type { ActorBehaviour } from '../src/actor-behaviour.js';
import { SystemClock } from '../src/clock.js';
import type { Reply } from '../src/contracts/reply.js';
import { silentLogger } from '../src/logger.js';
import { actor, supervisor } from '../supervisors/child-spec.js';
import { Runtime } from '../supervisors/runtime.js';
import { median, option } from './bench-support.js';
import { writeResultsSection } from './results-file.js';

// ---------------------------------------------------------------------------------------------------------------
// Options


const ROUNDS = option('rounds', 5);
const ROUND_MS = option('round-ms', 1_000);
const CONCURRENCY = option('concurrency', 100);
const WARMUP_MS = Math.max(500, ROUND_MS);
const DEADLINE_MS = 10_000;

// ---------------------------------------------------------------------------------------------------------------
// Subjects: each is one round-trip, returning the echoed number.

type Op = (n: number) => Promise<number>;

interface Subject {
  readonly key: 'layer' | 'bare' | 'direct';
  readonly label: string;
  readonly op: Op;
}

type EchoMsg = { type: 'echo'; n: number; replyTo: Reply<number> };

async function layerSubject(): Promise<{ subject: Subject; close: () => Promise<void> }> {
  const runtime = new Runtime({ clock: new SystemClock(), log: silentLogger(), name: 'bench' });
  const echo = (): ActorBehaviour<null, EchoMsg> => ({
    init: () => null,
    handle: (s, msg) => {
      msg.replyTo.ok(msg.n);
      return s;
    },
  });
  await runtime.start(supervisor({ name: 'root', children: [supervisor({ name: 'svc', children: [actor({ name: 'echo', behaviour: echo })] })] }));
  const ref = runtime.ref<EchoMsg>('echo');
  return {
    subject: { key: 'layer', label: 'layer runtime.ask', op: (n) => runtime.ask<EchoMsg, 'echo'>(ref, 'echo', { n }, DEADLINE_MS) },
    close: () => runtime.stop(),
  };
}

function bareSubject(): { subject: Subject; close: () => void } {
  const system = start({ name: 'bench-bare' } as unknown as string);
  type BareMsg = { n: number; replyTo: Ref<number> };
  const echo = spawn(
    system,
    (s: null, msg: BareMsg) => {
      dispatch(msg.replyTo, msg.n);
      return s;
    },
    'echo',
    { initialState: null },
  );
  return {
    subject: { key: 'bare', label: 'bare nact query', op: (n) => query(echo, (replyTo: Ref<number>) => ({ n, replyTo }), DEADLINE_MS) },
    close: () => {
      stop(echo);
      stop(system);
    },
  };
}

function directSubject(): Subject {
  // Kept opaque to the optimiser as far as a benchmark can: the result is checked by the caller.
  const echo = async (n: number): Promise<number> => n;
  return { key: 'direct', label: 'direct async call', op: echo };
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

type Mode = 'sequential' | 'concurrent';

async function runOps(op: Op, mode: Mode, count: number): Promise<void> {
  let sum = 0;
  if (mode === 'sequential') {
    for (let i = 0; i < count; i++) sum += await op(i);
  } else {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const v = await op(next++); // not `sum += await …`: that reads sum before the await
        sum += v;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  }
  const expected = (count * (count - 1)) / 2;
  if (sum !== expected) throw new Error(`wrong replies: sum ${sum}, expected ${expected}`);
}

/** Runs batches until `ms` have passed; returns ops/s. */
async function timed(op: Op, mode: Mode, ms: number, batch: number): Promise<{ rate: number; ops: number }> {
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(ms) * 1_000_000n;
  let ops = 0;
  let now = t0;
  do {
    await runOps(op, mode, batch);
    ops += batch;
    now = process.hrtime.bigint();
  } while (now < until);
  return { rate: (ops * 1e9) / Number(now - t0), ops };
}


const fmtRate = (r: number): string => Math.round(r).toLocaleString('en-US');
const fmtUs = (us: number): string => (us >= 10 ? us.toFixed(1) : us.toFixed(2));

// ---------------------------------------------------------------------------------------------------------------

interface Row {
  mode: Mode;
  key: Subject['key'];
  label: string;
  rates: number[];
}

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const cores = os.cpus().length;
  const machine = `${cpu}, ${cores} cores, Node ${process.version}`;
  const command = ['npx tsx bench/actor-hop.ts', ...process.argv.slice(2)].join(' ');
  console.log(`actor-hop: ${machine}`);
  console.log(`rounds ${ROUNDS} × ${ROUND_MS} ms per subject and mode, ${CONCURRENCY} in flight when concurrent, warm-up ${WARMUP_MS} ms each\n`);

  const layer = await layerSubject();
  const bare = bareSubject();
  const subjects: Subject[] = [layer.subject, bare.subject, directSubject()];
  const rows: Row[] = [];
  try {
    for (const mode of ['sequential', 'concurrent'] as const) {
      // Warm-up (JIT, pools, maps) and a batch size per subject of ~1/50 of a round.
      const batches = new Map<Subject['key'], number>();
      for (const s of subjects) {
        const { rate } = await timed(s.op, mode, WARMUP_MS, mode === 'concurrent' ? CONCURRENCY * 10 : 1_000);
        batches.set(s.key, Math.max(mode === 'concurrent' ? CONCURRENCY : 100, Math.round((rate * ROUND_MS) / 1000 / 50)));
        console.log(`[${mode}] warm-up ${s.label.padEnd(18)} ${fmtRate(rate).padStart(12)} ops/s`);
      }
      const modeRows = subjects.map((s) => ({ mode, key: s.key, label: s.label, rates: [] as number[] }));
      for (let r = 1; r <= ROUNDS; r++) {
        // Interleaved, and the order rotated per round, so drift (heat, GC, other load) is shared fairly.
        const order = subjects.map((_, i) => (i + r) % subjects.length);
        const line: string[] = [];
        for (const i of order) {
          const s = subjects[i]!;
          const { rate } = await timed(s.op, mode, ROUND_MS, batches.get(s.key)!);
          modeRows[i]!.rates.push(rate);
          line.push(`${s.key} ${fmtRate(rate)}`);
        }
        console.log(`[${mode}] round ${r}/${ROUNDS}: ${line.join(', ')} ops/s`);
      }
      rows.push(...modeRows);
    }
  } finally {
    await layer.close();
    bare.close();
  }

  // Table
  const header = ['mode', 'subject', 'median ops/s', 'µs / round-trip', 'overhead vs direct (µs)', 'min–max ops/s', 'vs bare nact'];
  const table: string[][] = [];
  const ratios: Record<Mode, number> = { sequential: 0, concurrent: 0 };
  for (const mode of ['sequential', 'concurrent'] as const) {
    const m = (key: Subject['key']) => median(rows.find((r) => r.mode === mode && r.key === key)!.rates);
    const directUs = 1e6 / m('direct');
    const bareUs = 1e6 / m('bare');
    for (const row of rows.filter((r) => r.mode === mode)) {
      const rate = median(row.rates);
      const us = 1e6 / rate;
      const vsBare = row.key === 'direct' ? '—' : `${(us / bareUs).toFixed(2)}x`;
      if (row.key === 'layer') ratios[mode] = us / bareUs;
      table.push([
        mode,
        row.label,
        fmtRate(rate),
        fmtUs(us),
        row.key === 'direct' ? '—' : fmtUs(us - directUs),
        `${fmtRate(Math.min(...row.rates))}–${fmtRate(Math.max(...row.rates))}`,
        vsBare,
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of table) console.log(line(r));
  const verdict = (mode: Mode) => `${mode}: layer/bare = ${ratios[mode].toFixed(2)}x per round-trip (${ratios[mode] <= 2 ? 'within' : 'OVER'} the 2x goal)`;
  console.log(`\n${verdict('sequential')}\n${verdict('concurrent')}`);

  // bench/RESULTS.md, section "## actor-hop" only
  const md = [
    '## actor-hop',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${machine}`,
    `- command: \`${command}\``,
    `- ${ROUNDS} rounds of ${ROUND_MS} ms per subject and mode (interleaved, after ${WARMUP_MS} ms warm-up); medians; concurrent = ${CONCURRENCY} in flight.`,
    '- µs / round-trip = 1e6 / median ops/s (amortised when concurrent); overhead = that minus the direct call\'s.',
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...table.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Layer/bare per round-trip: ${ratios.sequential.toFixed(2)}x sequential, ${ratios.concurrent.toFixed(2)}x concurrent (goal ≤ 2x).`,
    '',
  ].join('\n');
  const file = writeResultsSection('actor-hop', md);
  console.log(`\nwrote ${file} (section "## actor-hop")`);
}


main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
