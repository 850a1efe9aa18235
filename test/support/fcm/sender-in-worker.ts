// Runs the product's FCM sender inside a worker thread (as the dispatch pool does with piscina): creates it from
// workerData, sends the given tokens in `batches` batches, posts the outcome kinds and closes. Imported, after
// tsx is registered in the thread, by the worker bootstrap of test/integration/fcm-h2-session.test.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { buildFcmMessage } from '../../../src/adapters/fcm/fcm-message.js';
import { createFcmSender, type FcmSenderOptions } from '../../../src/adapters/fcm/fcm-sender.js';

interface Input {
  readonly options: Omit<FcmSenderOptions, 'credential'>;
  readonly tokens: readonly string[];
  readonly batches: number;
}

const input = workerData as Input;
const sender = createFcmSender({
  ...input.options,
  credential: { getAccessToken: async () => ({ access_token: 'worker-access-token', expires_in: 3600 }) },
});
try {
  const kinds: string[][] = [];
  for (let b = 0; b < input.batches; b++) {
    const outcomes = await sender.sendBatch(
      input.tokens.map((t) => buildFcmMessage(`${t}-${b}`, { jobId: 'job-in-worker', queue: 'urgent', type: { code: 'outage', ttlSeconds: 3_600 }, title: 'Coupure', body: 'Coupure' })),
    );
    kinds.push(outcomes.map((o) => o.kind));
  }
  parentPort?.postMessage({ kinds });
} finally {
  await sender.close();
}
