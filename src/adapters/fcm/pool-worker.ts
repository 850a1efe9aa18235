// The body of one FCM pool thread (piscina): one FcmSender per thread, made from the options in workerData when the
// thread starts and reused (its sockets, HTTP/2 session and OAuth token with it) until the pool ends the thread.
import { threadId, workerData } from 'node:worker_threads';
import { answerChunker } from './answers.js';
import type { FcmOutcome } from './fcm-outcome.js';
import { createFcmSender, type FcmSender } from './fcm-sender.js';
import type { PoolSenderOptions } from './fcm-pool.js';
import type { PoolTask } from './pool-task.js';
import { toError } from '../../errors/app-error.js';

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
  sender = toError(e);
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
