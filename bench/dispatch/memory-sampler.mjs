// bench/dispatch.ts --memory: loaded into the worker node with NODE_OPTIONS=--import. Every
// $BENCH_MEMORY_INTERVAL_MS, the main thread and every piscina thread (thread-hook.mjs) append one JSON line to
// $BENCH_MEMORY_FILE: process.memoryUsage() and the sizes of V8's young and old generations. In a thread, `rss` is
// the whole process's; heapTotal, heapUsed, external, arrayBuffers, the generations and the heap limit are that
// thread's own isolate. The product's code is unchanged. Plain JavaScript: it runs before tsx is registered.
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';
import { runInPiscinaThreads } from './thread-hook.mjs';

export default function sampleMemory() {
  const file = process.env.BENCH_MEMORY_FILE;
  if (!file) throw new Error('bench memory sampler: BENCH_MEMORY_FILE is not set');
  const every = Number(process.env.BENCH_MEMORY_INTERVAL_MS) || 250;
  const thread = isMainThread ? 'main' : `thread ${threadId}`;
  const sample = () => {
    const m = process.memoryUsage();
    const space = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
    const line = {
      t: Date.now(),
      thread,
      rss: m.rss,
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      young: space.new_space ?? 0,
      old: space.old_space ?? 0,
      limit: v8.getHeapStatistics().heap_size_limit,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  sample();
  setInterval(sample, every).unref();
}

if (isMainThread) {
  sampleMemory();
  runInPiscinaThreads(import.meta.url);
}
