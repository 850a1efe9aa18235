// Sends chosen dead letters back to the priority queue they died in: each republished on a confirm channel and
// acknowledged in the dead-letter queue only once the broker confirmed the copy, so a crash in between leaves a
// duplicate (which the batch claims drop) and never a loss; the dead letters not chosen go back untouched.
import type { ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { isPriorityQueue } from '../../domain/priority.js';
import { connectToAny } from './node-rotation.js';
import { BrokerUnavailableError } from './broker.js';
import { MAX_DEAD_LETTER_BROWSE, viewDeadLetter, type DeadLetterView } from './dead-letter-browser.js';
import { DEAD_LETTER_QUEUE, HEADERS } from './topology.js';

/** Which dead letters to replay: all, one job's, or the named messages. */
export type ReplaySelection = { readonly all: true } | { readonly jobId: string } | { readonly messageIds: readonly string[] };

export interface ReplayResult {
  /** Sent back and confirmed, in queue order (a message without an id as null). */
  readonly messageIds: readonly (string | null)[];
  /** Selected but left in the dead-letter queue: no priority queue to send them back to. */
  readonly skipped: number;
}

/** The replay stopped part way (the broker went away or refused a copy): `replayed` were sent back, the rest stay. */
export class ReplayInterruptedError extends BrokerUnavailableError {
  constructor(
    readonly replayed: readonly (string | null)[],
    options: { cause?: unknown },
  ) {
    super(`Replaying the dead letters stopped after ${replayed.length} message(s); the others are still in the dead-letter queue.`, options);
  }
}

/** What a dead letter's headers say about its death: dropped from the copy, which starts a fresh life in its queue. */
const DEATH_HEADERS = [HEADERS.deadReason, HEADERS.attempts, HEADERS.originQueue, 'x-death', 'x-delivery-count'];
const DEATH_PREFIXES = ['x-first-death-', 'x-last-death-'];

function liveHeaders(msg: GetMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((msg.properties.headers ?? {}) as Record<string, unknown>)) {
    if (!DEATH_HEADERS.includes(k) && !DEATH_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  }
  const times = msg.properties.headers?.['x-replayed'];
  out['x-replayed'] = (typeof times === 'number' ? times : 0) + 1;
  return out;
}

function selected(view: DeadLetterView, selection: ReplaySelection): boolean {
  if ('all' in selection) return true;
  if ('jobId' in selection) return view.jobId === selection.jobId;
  return view.messageId !== null && selection.messageIds.includes(view.messageId);
}

/**
 * Publishes one copy on the dispatch exchange to `queue` and resolves once the broker confirmed it routed (mandatory:
 * an unroutable copy comes back as a return before its confirm, and is a failure, not a silent drop).
 */
async function republish(ch: ConfirmChannel, exchange: string, queue: string, msg: GetMessage): Promise<void> {
  let returned = false;
  const onReturn = (): void => void (returned = true);
  ch.once('return', onReturn);
  try {
    await new Promise<void>((resolve, reject) =>
      ch.publish(
        exchange,
        queue,
        msg.content,
        { persistent: true, mandatory: true, contentType: msg.properties.contentType, messageId: msg.properties.messageId, headers: liveHeaders(msg) },
        (err) => (err ? reject(err instanceof Error ? err : new Error('the broker refused the copy')) : resolve()),
      ),
    );
  } finally {
    ch.removeListener('return', onReturn);
  }
  if (returned) throw new Error(`the copy was not routed to ${queue} (no queue bound to it on ${exchange})`);
}

/**
 * Replays the selected dead letters among the first `limit` (≤ 1000), oldest first. A replayed push batch keeps its
 * message id and batch id, so the batch claims (src/dispatch/batch-claims.ts) skip a batch already recorded and resume
 * one from its recorded progress: tokens already answered are not sent again. Rejects BROKER_UNAVAILABLE (nothing
 * replayed) or ReplayInterruptedError (some replayed).
 */
export async function replayDeadLetters(urls: readonly string[], exchange: string, selection: ReplaySelection, limit = MAX_DEAD_LETTER_BROWSE): Promise<ReplayResult> {
  if (urls.length === 0) throw new BrokerUnavailableError('No AMQP_URL: this process has no RabbitMQ to replay from.');
  let conn: ChannelModel;
  try {
    conn = await connectToAny(urls, { clientProperties: { connection_name: 'dead-letter-replay' } });
  } catch (e) {
    throw new BrokerUnavailableError('RabbitMQ cannot be reached to replay the dead letters.', { cause: e });
  }
  const replayed: (string | null)[] = [];
  let skipped = 0;
  try {
    const ch = await conn.createConfirmChannel();
    for (let seen = 0; seen < Math.max(1, Math.min(limit, MAX_DEAD_LETTER_BROWSE)); seen++) {
      // Unacknowledged until replayed: the dead letters looked at and not chosen stay invisible to another replay
      // running now, and go back to the queue when this connection closes.
      const msg = await ch.get(DEAD_LETTER_QUEUE, { noAck: false });
      if (msg === false) break;
      const view = viewDeadLetter(msg);
      if (!selected(view, selection)) continue;
      if (!view.originQueue || !isPriorityQueue(view.originQueue)) {
        skipped++;
        continue;
      }
      await republish(ch, exchange, view.originQueue, msg);
      ch.ack(msg);
      replayed.push(view.messageId);
    }
    return { messageIds: replayed, skipped };
  } catch (e) {
    if (replayed.length === 0) throw new BrokerUnavailableError('Replaying the dead letters failed; none was replayed.', { cause: e });
    throw new ReplayInterruptedError(replayed, { cause: e });
  } finally {
    // The acks are sent before the close, which returns every unacknowledged (unchosen) dead letter to the queue.
    await conn.close().catch(() => undefined);
  }
}
