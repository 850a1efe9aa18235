// The RabbitMQ broker's consumers: one channel each (its own prefetch), subscribed again on every new link unless
// paused or cancelled, their deliveries handed to the handler and settled on the channel they came from.
import type { Channel, ConsumeMessage } from 'amqplib';
import { errorMessage } from '../../errors/app-error.js';
import type { Logger } from '../../logger.js';
import { BrokerUnavailableError, headerCount, type ConsumeOptions, type ConsumerEnd, type ConsumerHandle, type Delivery, type Handler, type Outcome } from './broker.js';
import type { Link, LinkKeeper } from './amqp-link.js';
import { HEADERS, type BrokerQueue } from './topology.js';

interface AmqpConsumer {
  readonly queue: BrokerQueue;
  readonly prefetch: number;
  readonly handler: Handler;
  paused: boolean;
  cancelled: boolean;
  link: Link | undefined;
  channel: Channel | undefined;
  consumerTag: string | undefined;
  closingChannel: boolean;
  inFlight: number;
  readonly settledWaiters: Array<() => void>;
  /** Serialises subscribe, pause, resume and cancel of this consumer. */
  ops: Promise<void>;
  end(e: ConsumerEnd): void;
}

/**
 * Deliveries of a lost connection are not settled (their channel is gone): the broker redelivers them. Nothing
 * here throws out of an amqplib event handler: a failing handler's delivery goes back to its queue.
 */
export class AmqpConsumers {
  private readonly consumers = new Set<AmqpConsumer>();

  constructor(
    private readonly links: LinkKeeper,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.consumers.size;
  }

  async consume(queue: BrokerQueue, options: ConsumeOptions, handler: Handler): Promise<ConsumerHandle> {
    if (this.links.isClosed()) throw new BrokerUnavailableError('the broker connection is closed');
    if (!Number.isInteger(options.prefetch) || options.prefetch < 1) throw new RangeError(`prefetch must be a whole number >= 1, not ${options.prefetch}`);
    let resolveEnded!: (e: ConsumerEnd) => void;
    const ended = new Promise<ConsumerEnd>((resolve) => (resolveEnded = resolve));
    let endedOnce = false;
    const c: AmqpConsumer = {
      queue,
      prefetch: options.prefetch,
      handler,
      paused: options.paused === true,
      cancelled: false,
      link: undefined,
      channel: undefined,
      consumerTag: undefined,
      closingChannel: false,
      inFlight: 0,
      settledWaiters: [],
      ops: Promise.resolve(),
      end: (e) => {
        if (endedOnce) return;
        endedOnce = true;
        resolveEnded(e);
      },
    };
    this.consumers.add(c);
    await this.run(c, () => this.subscribe(c)).catch((error: unknown) => this.links.failLink(c.link ?? this.links.current(), `subscribing to ${queue} failed: ${errorMessage(error)}`));
    return {
      queue,
      ended,
      get paused() {
        return c.paused;
      },
      pause: () =>
        this.run(c, async () => {
          c.paused = true;
          await this.unsubscribe(c);
        }),
      resume: () =>
        this.run(c, async () => {
          if (c.cancelled) return;
          c.paused = false;
          await this.subscribe(c);
        }).catch((error: unknown) => this.links.failLink(c.link ?? this.links.current(), `subscribing to ${queue} failed: ${errorMessage(error)}`)),
      cancel: async () => {
        await this.run(c, async () => {
          c.cancelled = true;
          this.consumers.delete(c);
          await this.unsubscribe(c);
        });
        while (c.inFlight > 0) await new Promise<void>((resolve) => c.settledWaiters.push(resolve));
        const ch = c.channel;
        c.channel = undefined;
        if (ch) {
          c.closingChannel = true;
          await ch.close().catch(() => undefined);
        }
        c.end({ reason: 'cancelled' });
      },
    };
  }

  /** A new link is declared and publishing: subscribes every consumer that wants deliveries. */
  async subscribeAll(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => this.run(c, () => this.subscribe(c))));
  }

  /** The link is gone: forgets its consumer channels. */
  detach(link: Link): void {
    for (const c of this.consumers) {
      if (c.link === link) {
        c.channel = undefined;
        c.consumerTag = undefined;
        c.link = undefined;
      }
    }
  }

  /** The broker closes: every consumer ends with `broker-closed` and is forgotten. */
  endAll(): void {
    for (const c of this.consumers) c.end({ reason: 'broker-closed' });
    this.consumers.clear();
  }

  /** Runs one operation of a consumer after the previous one; the chain never rejects. */
  private run(c: AmqpConsumer, op: () => Promise<void>): Promise<void> {
    const next = c.ops.then(op);
    c.ops = next.catch(() => undefined);
    return next;
  }

  /** Subscribes on the current link when it is ready and the consumer wants deliveries; idempotent. */
  private async subscribe(c: AmqpConsumer): Promise<void> {
    const link = this.links.current();
    if (this.links.isClosed() || c.cancelled || c.paused || !link || !link.ready || link.lost) return;
    if (c.link === link && c.consumerTag) return;
    if (c.link !== link || !c.channel) {
      c.channel = undefined;
      c.consumerTag = undefined;
      const ch = await link.conn.createChannel();
      this.links.watchChannel(link, ch, `consumer channel of ${c.queue}`, () => c.channel === ch && !c.closingChannel);
      await ch.prefetch(c.prefetch);
      c.link = link;
      c.channel = ch;
      c.closingChannel = false;
    }
    const ch = c.channel;
    const ok = await ch.consume(c.queue, (m) => this.onDelivery(c, link, ch, m), { noAck: false });
    c.consumerTag = ok.consumerTag;
  }

  /** basic.cancel on the live channel; nothing to do when the connection is gone (the broker forgot it). */
  private async unsubscribe(c: AmqpConsumer): Promise<void> {
    const tag = c.consumerTag;
    c.consumerTag = undefined;
    if (!tag || !c.channel || !c.link || c.link.lost) return;
    try {
      await c.channel.cancel(tag);
    } catch (error) {
      this.log.debug({ err: error, queue: c.queue }, 'basic.cancel failed (connection going away)');
    }
  }

  private onDelivery(c: AmqpConsumer, link: Link, ch: Channel, m: ConsumeMessage | null): void {
    if (m === null) {
      // The broker cancelled the consumer (its queue was deleted): rebuild everything on a new connection.
      if (c.channel === ch) c.consumerTag = undefined;
      if (!c.cancelled) this.links.failLink(link, `RabbitMQ cancelled the consumer of ${c.queue}`);
      return;
    }
    c.inFlight++;
    const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
    const delivery: Delivery = {
      queue: c.queue,
      body: m.content,
      messageId: typeof m.properties.messageId === 'string' && m.properties.messageId !== '' ? m.properties.messageId : undefined,
      headers,
      priority: typeof m.properties.priority === 'number' ? m.properties.priority : undefined,
      redelivered: m.fields.redelivered,
      deliveryCount: headerCount(headers['x-delivery-count']),
      attempt: headerCount(headers[HEADERS.attempt]),
    };
    let result: Promise<Outcome>;
    try {
      result = c.handler(delivery);
    } catch (error) {
      result = Promise.reject(error);
    }
    result
      .catch((error: unknown): Outcome => {
        this.log.warn({ err: error, queue: c.queue, messageId: delivery.messageId }, 'consumer handler failed; message returned to its queue');
        return 'nack-requeue';
      })
      .then((outcome) => this.settle(c, link, ch, m, outcome))
      .finally(() => {
        c.inFlight--;
        for (const w of c.settledWaiters.splice(0)) w();
      })
      .catch(() => undefined);
  }

  private settle(c: AmqpConsumer, link: Link, ch: Channel, m: ConsumeMessage, outcome: Outcome): void {
    // A delivery of a lost connection: the broker has put it back already and will redeliver it.
    if (link.lost || c.channel !== ch) return;
    try {
      if (outcome === 'ack') ch.ack(m);
      else if (outcome === 'reject') ch.reject(m, false);
      else ch.nack(m, false, true);
    } catch (error) {
      this.log.warn({ err: error, queue: c.queue, outcome }, 'settling a delivery failed (channel closing); the broker redelivers it');
    }
  }
}
