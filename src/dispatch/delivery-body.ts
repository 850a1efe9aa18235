// The bodies a priority queue delivers to the dispatch handler, and their parsing: a notification job (from the
// outbox relay) or a push batch (from the fan-out, or a retry the handler published).
import type { JobMessage } from '../domain/job-message.js';
import type { PushBatchMessage } from './fan-out.js';

/** A push batch as the dispatch handler reads it: fan-out's message, or a retry batch (which names its own id and attempt). */
export interface DispatchBatchMessage extends PushBatchMessage {
  /** The batch's dedupe id; absent on fan-out batches (then `${jobId}:${batchNo}`). */
  readonly batchId?: string;
  /** The retry attempt this batch is on (0 / absent: the first send). */
  readonly attempt?: number;
}

/** A job message as the dispatch handler reads it: only its id (the rest is in the job row). */
export type JobDelivery = Pick<JobMessage, 'kind' | 'jobId'>;

export type DispatchMessage = JobDelivery | DispatchBatchMessage;

/** The body, or a reason it is not one the dispatch handler knows. */
export function parseDispatchMessage(body: Buffer): DispatchMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'body is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'body is not an object';
  const v = value as Record<string, unknown>;
  if (typeof v['jobId'] !== 'string' || v['jobId'].length === 0) return 'jobId missing';
  const jobId = v['jobId'];
  if (v['kind'] === 'notification-job') return { kind: 'notification-job', jobId };
  if (v['kind'] !== 'push-batch') return `unknown kind ${JSON.stringify(v['kind'])}`;
  const batchNo = v['batchNo'];
  if (typeof batchNo !== 'number' || !Number.isInteger(batchNo) || batchNo < 0) return 'batchNo missing';
  const tokens = v['tokens'];
  if (!Array.isArray(tokens)) return 'tokens missing';
  for (const t of tokens) {
    if (typeof t !== 'object' || t === null) return 'bad token entry';
    const e = t as Record<string, unknown>;
    if (typeof e['sessionId'] !== 'string' || typeof e['token'] !== 'string') return 'bad token entry';
  }
  const batchId = v['batchId'];
  if (batchId !== undefined && (typeof batchId !== 'string' || batchId.length === 0)) return 'bad batchId';
  const attempt = v['attempt'];
  if (attempt !== undefined && (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 0)) return 'bad attempt';
  return {
    kind: 'push-batch',
    jobId,
    batchNo,
    tokens: (tokens as Array<{ sessionId: string; token: string }>).map((t) => ({ sessionId: t.sessionId, token: t.token })),
    ...(batchId !== undefined ? { batchId } : {}),
    ...(attempt !== undefined ? { attempt } : {}),
  };
}
