// Publishing with confirms: a publish resolves only when RabbitMQ confirmed it, rejects otherwise, and is never
// sent again here (the caller — the outbox relay — publishes again; consumers dedupe by messageId).
import type { Clock } from '../../clock.js';
import { errorMessage } from '../../errors/app-error.js';
import { BrokerRejectedError, BrokerUnavailableError } from './broker.js';
import { returnKey, type LinkKeeper } from './amqp-link.js';

/** The one message to send: where to, its body and properties. */
export interface OutgoingMessage {
  readonly exchange: string;
  readonly routingKey: string;
  /** The queue it is meant for, named in a rejection. */
  readonly queue: string;
  readonly body: Buffer;
  readonly messageId: string | undefined;
  readonly priority?: number | undefined;
  readonly headers: Record<string, unknown>;
}

/**
 * Rejections: while down → BROKER_UNAVAILABLE at once; connection lost before the confirm → BROKER_UNAVAILABLE (the
 * message may or may not be stored); nack or no queue bound to the routing key (mandatory) → BROKER_REJECTED; no
 * confirm within confirmTimeoutMs (a blocked broker) → BROKER_UNAVAILABLE.
 */
export class ConfirmedPublisher {
  private publishSeq = 0;

  constructor(
    private readonly links: LinkKeeper,
    private readonly clock: Clock,
    private readonly confirmTimeoutMs: number,
  ) {}

  send(message: OutgoingMessage): Promise<void> {
    const { exchange, routingKey, queue } = message;
    if (this.links.isClosed()) return Promise.reject(new BrokerUnavailableError('the broker connection is closed'));
    const link = this.links.current();
    const pub = link?.pub;
    if (!link || !pub || !link.ready || link.lost) return Promise.reject(new BrokerUnavailableError('not connected to RabbitMQ'));
    const key = returnKey(routingKey, message.messageId);
    return new Promise<void>((resolve, reject) => {
      const id = ++this.publishSeq;
      const timer = this.clock.setTimeout(() => {
        if (link.pending.delete(id)) reject(new BrokerUnavailableError(`RabbitMQ did not confirm within ${this.confirmTimeoutMs} ms`));
      }, this.confirmTimeoutMs);
      link.pending.set(id, { reject, timer });
      const settle = (err: unknown): void => {
        if (!link.pending.delete(id)) return; // already failed: timed out or connection lost
        this.clock.clearTimeout(timer);
        const returned = link.returned.get(key) ?? 0;
        if (returned > 0) {
          if (returned === 1) link.returned.delete(key);
          else link.returned.set(key, returned - 1);
          reject(new BrokerRejectedError(queue, `no queue is bound to ${exchange}/${routingKey}: the message was not stored`));
        } else if (err === null || err === undefined) resolve();
        else if (errorMessage(err) === 'message nacked') reject(new BrokerRejectedError(queue, `RabbitMQ refused the message for ${queue} (nack)`));
        else reject(new BrokerUnavailableError(`connection to RabbitMQ lost before the confirm (${errorMessage(err)})`, { cause: err }));
      };
      try {
        pub.publish(
          exchange,
          routingKey,
          message.body,
          {
            persistent: true,
            mandatory: true,
            ...(message.messageId !== undefined ? { messageId: message.messageId } : {}),
            headers: message.headers,
            ...(message.priority !== undefined ? { priority: message.priority } : {}),
          },
          settle,
        );
      } catch (error) {
        // The channel closed under us (IllegalOperationError), or a header table too large (RangeError).
        if (link.pending.delete(id)) this.clock.clearTimeout(timer);
        reject(error instanceof RangeError ? error : new BrokerUnavailableError(`publish failed: ${errorMessage(error)}`, { cause: error }));
      }
    });
  }
}
