// bench/dispatch.ts, "direct" variant: loaded into the worker node with NODE_OPTIONS=--import. Installs the DNS
// stand-in (direct-patch.mjs) in the main thread and, since preloads do not run in worker threads, starts every
// piscina thread through direct-thread.mjs, which installs it there too before running piscina's worker script.
// The product's code is unchanged: it dials fcm.googleapis.com:443 with no proxy, and lands on the fake.
import workerThreads from 'node:worker_threads';
import { installDirect } from './direct-patch.mjs';

installDirect();
const Original = workerThreads.Worker;
const bootstrap = new URL('./direct-thread.mjs', import.meta.url);

class DirectWorker extends Original {
  constructor(filename, options = {}) {
    const f = filename instanceof URL ? filename.pathname : String(filename);
    if (/piscina[\\/]dist[\\/]worker\.js$/.test(f)) {
      super(bootstrap, { ...options, env: { ...(options.env && typeof options.env === 'object' ? options.env : process.env), BENCH_DIRECT_NEXT: f } });
    } else {
      super(filename, options);
    }
  }
}
workerThreads.Worker = DirectWorker;
