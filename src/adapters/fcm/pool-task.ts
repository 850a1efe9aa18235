// What the FCM pool hands one of its threads for a batch (pool-worker.ts runs it).
import type { MessagePort } from 'node:worker_threads';
import type { AnswerChunking } from './answers.js';
import type { FcmMessage } from './fcm-message.js';

/** One batch; with `progress`, its answers are posted there in chunks while the batch is in flight. */
export interface PoolTask {
  readonly messages: readonly FcmMessage[];
  readonly progress?: { readonly port: MessagePort; readonly chunking: AnswerChunking };
}
