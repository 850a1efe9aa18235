// Reads the first messages of the dead-letter queue without taking them: a private connection gets up to `limit`
// messages unacknowledged, then closes its channel, and the broker puts every one of them back in the queue. It
// does so asynchronously (measured: the queue showed 0 ready right after a browse of 200), so the browse answers
// only once the queue holds as many ready messages as before it (bounded: a replay may take some meanwhile).
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { connectToAny } from './node-rotation.js';
import { BrokerUnavailableError } from './broker.js';
import { DEAD_LETTER_QUEUE, HEADERS } from './topology.js';

export const MAX_DEAD_LETTER_BROWSE = 1_000;
/** How long a browse waits for the broker to put back what it read. */
const RETURN_WAIT_MS = 2_000;

export interface DeadLetterView {
  readonly messageId: string | null;
  /** The application's reason (x-dead-reason), else the broker's (x-death: rejected, delivery_limit, expired …). */
  readonly reason: string | null;
  /** Attempts before it was dead-lettered (x-attempts), else the broker's x-death count. */
  readonly attempts: number | null;
  readonly originQueue: string | null;
  readonly jobId: string | null;
  readonly batchNo: number | null;
  /** Tokens in the batch; null when the body is not a push batch. */
  readonly tokens: number | null;
}

interface XDeath {
  reason?: string;
  count?: number;
  queue?: string;
}

/** What one dead letter says about itself; tolerant of any body (an unparseable one was rejected for that). */
export function viewDeadLetter(msg: Pick<GetMessage, 'content' | 'properties'>): DeadLetterView {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const death = (Array.isArray(headers['x-death']) ? (headers['x-death'][0] as XDeath | undefined) : undefined) ?? {};
  let body: { jobId?: unknown; batchNo?: unknown; tokens?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(msg.content.toString('utf8'));
    if (parsed && typeof parsed === 'object') body = parsed as typeof body;
  } catch {
    // Left empty: the view says what it can.
  }
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
  return {
    messageId: str(msg.properties.messageId),
    reason: str(headers[HEADERS.deadReason]) ?? str(death.reason),
    attempts: int(headers[HEADERS.attempts]) ?? int(death.count),
    originQueue: str(headers[HEADERS.originQueue]) ?? str(death.queue),
    jobId: str(body.jobId) ?? str(headers['x-job-id']),
    batchNo: int(body.batchNo),
    tokens: Array.isArray(body.tokens) ? body.tokens.length : null,
  };
}

/** The first `limit` (≤ 1000) dead letters in the queue's order (a browse puts back what it read, not always in the same order); none is consumed. Rejects BROKER_UNAVAILABLE. */
export async function browseDeadLetters(urls: readonly string[], limit: number): Promise<DeadLetterView[]> {
  if (urls.length === 0) throw new BrokerUnavailableError('No AMQP_URL: this process has no RabbitMQ to browse.');
  const bounded = Math.max(1, Math.min(limit, MAX_DEAD_LETTER_BROWSE));
  let conn: ChannelModel;
  try {
    conn = await connectToAny(urls, { clientProperties: { connection_name: 'dead-letter-browser' } });
  } catch (e) {
    throw new BrokerUnavailableError('RabbitMQ cannot be reached to browse the dead letters.', { cause: e });
  }
  try {
    const ch = await conn.createChannel();
    const readyBefore = (await ch.checkQueue(DEAD_LETTER_QUEUE)).messageCount;
    const out: DeadLetterView[] = [];
    while (out.length < bounded) {
      const msg = await ch.get(DEAD_LETTER_QUEUE, { noAck: false });
      if (msg === false) break;
      out.push(viewDeadLetter(msg));
    }
    // Closing the channel with the messages unacknowledged returns every one of them to the queue.
    await ch.close();
    if (out.length > 0) await awaitReturned(await conn.createChannel(), readyBefore);
    return out;
  } catch (e) {
    throw new BrokerUnavailableError('Browsing the dead letters failed.', { cause: e });
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Waits (at most RETURN_WAIT_MS) until the dead-letter queue holds `ready` ready messages again. */
async function awaitReturned(ch: Channel, ready: number): Promise<void> {
  const deadline = Date.now() + RETURN_WAIT_MS;
  while ((await ch.checkQueue(DEAD_LETTER_QUEUE)).messageCount < ready && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
