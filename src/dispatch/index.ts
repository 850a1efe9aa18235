// The dispatch (delivery) feature's public module: what the rest of the process may read of the worker's parts.
export type { ConsumerStats } from './consumer-messages.js';
export type { FcmPoolReport } from './fcm-pool-messages.js';
export { pausedQueuesFrom, type PausedQueues } from './queue-pauses.js';
