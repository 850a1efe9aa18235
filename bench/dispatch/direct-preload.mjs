// bench/dispatch.ts, "direct" variant: loaded into the worker node with NODE_OPTIONS=--import. Installs the DNS
// stand-in (direct-patch.mjs) in the main thread and, through thread-hook.mjs, in every piscina thread.
// The product's code is unchanged: it dials fcm.googleapis.com:443 with no proxy, and lands on the fake.
import installDirect from './direct-patch.mjs';
import { runInPiscinaThreads } from './thread-hook.mjs';

installDirect();
runInPiscinaThreads(new URL('./direct-patch.mjs', import.meta.url));
