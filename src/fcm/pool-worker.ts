// The body of one FCM pool thread (piscina): one FcmSender per thread, made on the first batch from the
// options in workerData, then reused (its keep-alive sockets or HTTP/2 session and its OAuth token with it).
// The thread's sockets and firebase-admin app end with the thread (the pool terminates threads on close).
import { threadId, workerData } from 'node:worker_threads';
import type { FcmMessage } from './fcm-message.js';
import type { FcmOutcome } from './fcm-outcome.js';
import { createFcmSender, type FcmSender } from './fcm-sender.js';
import type { PoolSenderOptions } from './fcm-pool.js';

const options = (workerData as { sender: PoolSenderOptions }).sender;
let sender: FcmSender | undefined;

export default async function sendBatch(messages: readonly FcmMessage[]): Promise<FcmOutcome[]> {
  sender ??= createFcmSender({ ...options, appName: `fcm-pool-${threadId}` });
  return sender.sendBatch(messages);
}
