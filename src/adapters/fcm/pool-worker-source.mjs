// Running from TypeScript sources (tests, `tsx`): worker threads start as plain Node, so this bootstrap
// registers tsx in the thread and loads pool-worker.ts. The compiled build loads dist/src/adapters/fcm/pool-worker.js
// directly and never uses this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const mod = await import(workerData.sourceEntry);
export default mod.default;
