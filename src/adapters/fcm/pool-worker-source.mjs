// A pool thread's bootstrap when running from the TypeScript sources (tests, tsx): registers tsx in the thread, then
// loads pool-worker.ts. The compiled build loads dist/src/adapters/fcm/pool-worker.js directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const mod = await import(workerData.sourceEntry);
export default mod.default;
