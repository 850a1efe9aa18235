// Reads the first messages of the dead-letter queue without taking them: a private connection gets up to `limit`
// messages unacknowledged, then closes, and the broker puts every one of them back in the queue.
import type { ChannelModel, GetMessage } from 'amqplib';
import { connectToAny } from './node-rotation.js';
import { BrokerUnavailableError } from './broker.js';
import { DEAD_LETTER_QUEUE, HEADERS } from './topology.js';

export const MAX_DEAD_LETTER_BROWSE = 1_000;

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

/** The first `limit` (≤ 1000) dead letters, oldest first; none is consumed. Rejects BROKER_UNAVAILABLE. */
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
    const out: DeadLetterView[] = [];
    while (out.length < bounded) {
      const msg = await ch.get(DEAD_LETTER_QUEUE, { noAck: false });
      if (msg === false) break;
      out.push(viewDeadLetter(msg));
    }
    return out;
  } catch (e) {
    throw new BrokerUnavailableError('Browsing the dead letters failed.', { cause: e });
  } finally {
    // Closing with the messages unacknowledged returns every one of them to the queue.
    await conn.close().catch(() => undefined);
  }
}
