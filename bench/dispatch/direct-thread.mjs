// bench/dispatch.ts, "direct" variant: the first script of every piscina thread of the worker node (see
// direct-preload.mjs): installs the DNS stand-in in the thread, then runs piscina's own worker script.
import { pathToFileURL } from 'node:url';
import { installDirect } from './direct-patch.mjs';

installDirect();
const next = process.env.BENCH_DIRECT_NEXT;
if (!next) throw new Error('bench direct thread: BENCH_DIRECT_NEXT is not set');
await import(pathToFileURL(next).href);
