// bench/dispatch.ts: preloads (NODE_OPTIONS --import) run in a process's main thread only. A preload that must also
// run in every piscina thread of the worker node (the DNS stand-in of the "direct" variants, the memory sampler of
// --memory) registers a module here whose default export is called at the start of each such thread: the first
// registration replaces worker_threads.Worker so that piscina's threads start through thread-bootstrap.mjs, which
// calls every registered module's default export, then runs piscina's own worker script.
// The product's code is unchanged. Plain JavaScript: it runs before tsx is registered.
import workerThreads from 'node:worker_threads';

const modules = [];
const bootstrap = new URL('./thread-bootstrap.mjs', import.meta.url);

/** Calls `moduleUrl`'s default export at the start of every piscina thread of this process. */
export function runInPiscinaThreads(moduleUrl) {
  modules.push(String(moduleUrl));
  if (modules.length > 1) return;
  const Original = workerThreads.Worker;
  class HookedWorker extends Original {
    constructor(filename, options = {}) {
      const f = filename instanceof URL ? filename.pathname : String(filename);
      if (!/piscina[\\/]dist[\\/]worker\.js$/.test(f)) {
        super(filename, options);
        return;
      }
      const env = options.env && typeof options.env === 'object' ? options.env : process.env;
      super(bootstrap, { ...options, env: { ...env, BENCH_THREAD_MODULES: modules.join(' '), BENCH_THREAD_NEXT: f } });
    }
  }
  workerThreads.Worker = HookedWorker;
}
