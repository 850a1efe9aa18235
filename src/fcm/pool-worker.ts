// The body of one FCM pool thread (piscina): one FcmSender per thread, made from the options in workerData when
// the thread starts, then reused (its keep-alive sockets or HTTP/2 session and its OAuth token with it).
// The thread's sockets and firebase-admin app end with the thread (the pool terminates threads on close).
import { threadId, workerData } from 'node:worker_threads';
import type { FcmMessage } from './fcm-message.js';
import type { FcmOutcome } from './fcm-outcome.js';
import { createFcmSender, type FcmSender } from './fcm-sender.js';
import type { PoolSenderOptions } from './fcm-pool.js';

const options = (workerData as { sender: PoolSenderOptions }).sender;
// Made when the thread starts (the pool starts all its threads at once) and warmed in the background: the first
// batch — maybe an urgent one — finds the OAuth token and the HTTP/2 session ready.
// A sender that cannot be made (say, an unreadable credentials file) fails each batch with that error rather
// than the thread's start, which piscina would retry in a loop.
let sender: FcmSender | Error;
try {
  sender = createFcmSender({ ...options, appName: `fcm-pool-${threadId}` });
  void sender.warm();
} catch (e) {
  sender = e instanceof Error ? e : new Error(String(e));
}

export default async function sendBatch(messages: readonly FcmMessage[]): Promise<FcmOutcome[]> {
  if (sender instanceof Error) throw sender;
  return sender.sendBatch(messages);
}
