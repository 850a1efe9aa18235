// The body of one FCM pool thread (piscina): one FcmSender per thread, made from the options in workerData when
// the thread starts, then reused (its keep-alive sockets or HTTP/2 session and its OAuth token with it).
// The thread's sockets and firebase-admin app end with the thread (the pool terminates threads on close).
import { threadId, workerData, type MessagePort } from 'node:worker_threads';
import { answerChunker, type AnswerChunking } from './answers.js';
import type { FcmMessage } from './fcm-message.js';
import type { FcmOutcome } from './fcm-outcome.js';
import { createFcmSender, type FcmSender } from './fcm-sender.js';
import type { PoolSenderOptions } from './pool-sender-options.js';

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

/** One batch; with `progress`, its answers are posted there in chunks while the batch is in flight. */
export interface PoolTask {
  readonly messages: readonly FcmMessage[];
  readonly progress?: { readonly port: MessagePort; readonly chunking: AnswerChunking };
}

export default async function sendBatch(task: PoolTask): Promise<FcmOutcome[]> {
  if (sender instanceof Error) throw sender;
  const { progress } = task;
  if (!progress) return sender.sendBatch(task.messages);
  const chunker = answerChunker(progress.chunking, (answers) => progress.port.postMessage(answers));
  try {
    return await sender.sendBatch(task.messages, (i, o) => chunker.add(i, o));
  } finally {
    chunker.close();
    progress.port.close();
  }
}
