// bench/dispatch.ts: the first script of every piscina thread of the worker node (see thread-hook.mjs): calls the
// default export of each registered module in the thread, then runs piscina's own worker script.
import { pathToFileURL } from 'node:url';

for (const url of (process.env.BENCH_THREAD_MODULES ?? '').split(' ').filter(Boolean)) (await import(url)).default();
const next = process.env.BENCH_THREAD_NEXT;
if (!next) throw new Error('bench thread bootstrap: BENCH_THREAD_NEXT is not set');
await import(pathToFileURL(next).href);
