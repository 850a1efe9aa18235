// The Broker over RabbitMQ with amqplib. One connection at a time ("link"): a confirm channel for every
// publish, a control channel for declaring and checkQueue, one channel per consumer (its own prefetch).
//
// - Reconnect: a lost connection (or a failed attempt) emits `down` and tries again after a backoff
//   (src/backoff.ts, on the injected clock); each new connection declares the topology again and
//   re-subscribes every consumer that is not paused or cancelled, then emits `up`.
// - Publishes resolve only when the broker confirmed them and reject otherwise, never re-sent here:
//   while down → BROKER_UNAVAILABLE at once; connection lost before the confirm → BROKER_UNAVAILABLE (the
//   message may or may not be stored: the caller — the outbox relay — publishes again, and consumers
//   dedupe by messageId); nack or no queue bound to the routing key (mandatory) → BROKER_REJECTED; no
//   confirm within confirmTimeoutMs (a blocked broker) → BROKER_UNAVAILABLE.
// - Deliveries of a lost connection are not settled (their channel is gone): the broker redelivers them.
// - Any unexpected close of a publish or consumer channel (a bug such as a double ack, a consumer
//   cancelled by the broker because its queue was deleted) drops the whole connection and goes through
//   the reconnect path, which is the one path that rebuilds everything.
// - Nothing here throws out of an amqplib event handler: listeners are wrapped and errors logged.
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Message } from 'amqplib';
import { SystemClock, type Clock, type TimerHandle } from '../../clock.js';
import { backoffDelay, type BackoffPolicy } from '../../backoff.js';
import { errorMessage } from '../../errors/app-error.js';
import { silentLogger, type Logger } from '../../logger.js';
import {
  BrokerRejectedError,
  BrokerUnavailableError,
  headerCount,
  type Broker,
  type BrokerEvent,
  type ConsumeOptions,
  type ConsumerEnd,
  type ConsumerHandle,
  type DeadLetterOptions,
  type Delivery,
  type Handler,
  type Outcome,
  type PublishOptions,
  type RetryOptions,
} from './broker.js';
import { HEADERS, buildTopology, declareTopology, retryQueueName, retryTierFor, type BrokerQueue, type Topology, type TopologyOptions } from './topology.js';
import type { PriorityQueue } from '../../domain/priority.js';

export interface AmqpBrokerOptions {
  /** amqp://user:pass@host:port/vhost */
  readonly url: string;
  readonly topology?: TopologyOptions;
  /** Shown in the management UI and `rabbitmqctl list_connections`. @defaultValue 'samaconso' */
  readonly connectionName?: string;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
  /** Delays between connection attempts. @defaultValue { minMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2 } */
  readonly reconnect?: Partial<BackoffPolicy>;
  /** AMQP heartbeat: a silent dead peer is noticed within about twice this. @defaultValue 10 */
  readonly heartbeatSeconds?: number;
  /** TCP connect and AMQP handshake bound. @defaultValue 5_000 */
  readonly connectTimeoutMs?: number;
  /** A publish not confirmed within this rejects with BROKER_UNAVAILABLE. @defaultValue 10_000 */
  readonly confirmTimeoutMs?: number;
}

const RECONNECT: BackoffPolicy = { minMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };

interface PendingPublish {
  readonly reject: (e: Error) => void;
  readonly timer: TimerHandle;
}

/** One connection and its channels; a new one per reconnect. */
interface Link {
  readonly gen: number;
  readonly conn: ChannelModel;
  ctl: Channel | undefined;
  pub: ConfirmChannel | undefined;
  /** Declared and publishing: consumers may subscribe, publishes are sent. */
  ready: boolean;
  lost: boolean;
  readonly pending: Map<number, PendingPublish>;
  /** Mandatory publishes the broker returned (no route), by routing key and message id, until their confirm. */
  readonly returned: Map<string, number>;
  /** The last channel error, to name the reason when the connection goes. */
  lastError: string | undefined;
}

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

export class AmqpBroker implements Broker {
  readonly kind = 'amqp' as const;
  readonly topology: Topology;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly reconnectPolicy: BackoffPolicy;
  private readonly confirmTimeoutMs: number;
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly consumers = new Set<AmqpConsumer>();
  private link: Link | undefined;
  private up = false;
  private closed = false;
  private gen = 0;
  private attempt = 0;
  private publishSeq = 0;
  private reconnectTimer: TimerHandle | undefined;

  constructor(private readonly options: AmqpBrokerOptions) {
    this.topology = buildTopology(options.topology);
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLogger();
    this.reconnectPolicy = { ...RECONNECT, ...options.reconnect };
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
    void this.connect();
  }

  get isUp(): boolean {
    return this.up;
  }

  get unconfirmed(): number {
    return this.link?.pending.size ?? 0;
  }

  // ------------------------------------------------------------------------------------------ publishing

  publish(queue: PriorityQueue, body: Buffer, options: PublishOptions): Promise<void> {
    return this.send(this.topology.exchange, queue, queue, body, options, { ...options.headers });
  }

  retry(queue: PriorityQueue, body: Buffer, options: RetryOptions): Promise<void> {
    const name = retryQueueName(queue, retryTierFor(this.topology, options.delayMs));
    const headers = { ...options.headers, [HEADERS.attempt]: options.attempt, [HEADERS.retryReason]: options.reason };
    return this.send(this.topology.retryExchange, name, queue, body, options, headers);
  }

  deadLetter(queue: PriorityQueue, body: Buffer, reason: string, attempts: number, options: DeadLetterOptions = {}): Promise<void> {
    const headers = { ...options.headers, [HEADERS.deadReason]: reason, [HEADERS.attempts]: attempts, [HEADERS.originQueue]: queue };
    return this.send(this.topology.deadLetterExchange, queue, queue, body, { messageId: options.messageId }, headers);
  }

  private send(exchange: string, routingKey: string, queue: string, body: Buffer, options: { messageId: string | undefined; priority?: number }, headers: Record<string, unknown>): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the broker connection is closed'));
    const link = this.link;
    const pub = link?.pub;
    if (!link || !pub || !link.ready || link.lost) return Promise.reject(new BrokerUnavailableError('not connected to RabbitMQ'));
    const returnKey = `${routingKey}\u0000${options.messageId ?? ''}`;
    return new Promise<void>((resolve, reject) => {
      const id = ++this.publishSeq;
      const timer = this.clock.setTimeout(() => {
        if (link.pending.delete(id)) reject(new BrokerUnavailableError(`RabbitMQ did not confirm within ${this.confirmTimeoutMs} ms`));
      }, this.confirmTimeoutMs);
      link.pending.set(id, { reject, timer });
      const settle = (err: unknown): void => {
        if (!link.pending.delete(id)) return; // already failed: timed out or connection lost
        this.clock.clearTimeout(timer);
        const returned = link.returned.get(returnKey) ?? 0;
        if (returned > 0) {
          if (returned === 1) link.returned.delete(returnKey);
          else link.returned.set(returnKey, returned - 1);
          reject(new BrokerRejectedError(queue, `no queue is bound to ${exchange}/${routingKey}: the message was not stored`));
        } else if (err === null || err === undefined) resolve();
        else if (errorMessage(err) === 'message nacked') reject(new BrokerRejectedError(queue, `RabbitMQ refused the message for ${queue} (nack)`));
        else reject(new BrokerUnavailableError(`connection to RabbitMQ lost before the confirm (${errorMessage(err)})`, { cause: err }));
      };
      try {
        pub.publish(
          exchange,
          routingKey,
          body,
          {
            persistent: true,
            mandatory: true,
            ...(options.messageId !== undefined ? { messageId: options.messageId } : {}),
            headers,
            ...(options.priority !== undefined ? { priority: options.priority } : {}),
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

  // ------------------------------------------------------------------------------------------ consuming

  async consume(queue: BrokerQueue, options: ConsumeOptions, handler: Handler): Promise<ConsumerHandle> {
    if (this.closed) throw new BrokerUnavailableError('the broker connection is closed');
    if (!Number.isInteger(options.prefetch) || options.prefetch < 1) throw new RangeError(`prefetch must be a whole number >= 1, not ${options.prefetch}`);
    let resolveEnded!: (e: ConsumerEnd) => void;
    const ended = new Promise<ConsumerEnd>((resolve) => (resolveEnded = resolve));
    let endedOnce = false;
    const c: AmqpConsumer = {
      queue,
      prefetch: options.prefetch,
      handler,
      paused: false,
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
    await this.run(c, () => this.subscribe(c)).catch((error: unknown) => this.failLink(c.link ?? this.link, `subscribing to ${queue} failed: ${errorMessage(error)}`));
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
        }).catch((error: unknown) => this.failLink(c.link ?? this.link, `subscribing to ${queue} failed: ${errorMessage(error)}`)),
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

  /** Runs one operation of a consumer after the previous one; the chain never rejects. */
  private run(c: AmqpConsumer, op: () => Promise<void>): Promise<void> {
    const next = c.ops.then(op);
    c.ops = next.catch(() => undefined);
    return next;
  }

  /** Subscribes on the current link when it is ready and the consumer wants deliveries; idempotent. */
  private async subscribe(c: AmqpConsumer): Promise<void> {
    const link = this.link;
    if (this.closed || c.cancelled || c.paused || !link || !link.ready || link.lost) return;
    if (c.link === link && c.consumerTag) return;
    if (c.link !== link || !c.channel) {
      c.channel = undefined;
      c.consumerTag = undefined;
      const ch = await link.conn.createChannel();
      this.watchChannel(link, ch, `consumer channel of ${c.queue}`, () => c.channel === ch && !c.closingChannel);
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
      if (!c.cancelled) this.failLink(link, `RabbitMQ cancelled the consumer of ${c.queue}`);
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

  // ------------------------------------------------------------------------------------------ queries

  async consumerCount(queue: BrokerQueue): Promise<number> {
    if (this.closed) throw new BrokerUnavailableError('the broker connection is closed');
    const link = this.link;
    if (!link || !link.ready || link.lost) throw new BrokerUnavailableError('not connected to RabbitMQ');
    try {
      if (!link.ctl) {
        const ctl = await link.conn.createChannel();
        this.watchControl(link, ctl);
        link.ctl = ctl;
      }
      return (await link.ctl.checkQueue(queue)).consumerCount;
    } catch (error) {
      if (link.lost) throw new BrokerUnavailableError(`connection to RabbitMQ lost (${errorMessage(error)})`, { cause: error });
      throw error;
    }
  }

  on(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ------------------------------------------------------------------------------------------ connection

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const gen = ++this.gen;
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(this.connectionUrl(), {
        timeout: this.options.connectTimeoutMs ?? 5_000,
        // amqplib turns Nagle on by default: small frames (a confirm, an ack, one urgent message) then wait for
        // the peer's delayed ACK, ~40 ms under load (bench/RESULTS.md, dispatch: urgent latency).
        noDelay: true,
        clientProperties: { connection_name: this.options.connectionName ?? 'samaconso' },
      });
    } catch (error) {
      this.down(`cannot connect to RabbitMQ: ${errorMessage(error)}`);
      return;
    }
    if (this.closed) {
      await conn.close().catch(() => undefined);
      return;
    }
    const link: Link = { gen, conn, ctl: undefined, pub: undefined, ready: false, lost: false, pending: new Map(), returned: new Map(), lastError: undefined };
    this.link = link;
    conn.on('error', (error: Error) => {
      link.lastError = errorMessage(error);
      this.log.warn({ err: error }, 'RabbitMQ connection error');
    });
    conn.on('close', (error?: Error) => this.lose(link, `connection to RabbitMQ closed${error ? `: ${errorMessage(error)}` : link.lastError ? `: ${link.lastError}` : ''}`));
    conn.on('blocked', (reason: string) => this.log.warn({ reason }, 'RabbitMQ blocked this connection (resource alarm): publishes wait'));
    conn.on('unblocked', () => this.log.info('RabbitMQ unblocked this connection'));
    conn.on('handler-error', (error: Error, event: string) => this.log.error({ err: error, event }, 'a RabbitMQ event handler threw'));
    try {
      const ctl = await conn.createChannel();
      this.watchControl(link, ctl);
      link.ctl = ctl;
      await declareTopology(ctl, this.topology);
      const pub = await conn.createConfirmChannel();
      this.watchChannel(link, pub, 'publish channel', () => link.pub === pub);
      pub.on('return', (m: Message) => {
        const key = `${m.fields.routingKey}\u0000${typeof m.properties.messageId === 'string' ? m.properties.messageId : ''}`;
        link.returned.set(key, (link.returned.get(key) ?? 0) + 1);
      });
      link.pub = pub;
      link.ready = true;
      await Promise.all([...this.consumers].map((c) => this.run(c, () => this.subscribe(c))));
    } catch (error) {
      this.failLink(link, `setting up RabbitMQ failed: ${link.lastError ?? errorMessage(error)}`);
      return;
    }
    if (link.lost || this.link !== link || this.closed) return;
    this.attempt = 0;
    this.up = true;
    this.log.info({ consumers: this.consumers.size }, 'RabbitMQ is up');
    this.emit({ type: 'up' });
  }

  private connectionUrl(): string {
    const url = new URL(this.options.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds ?? 10));
    return url.toString();
  }

  /** The control channel may close on a failed check (a missing queue): it is opened again when needed. */
  private watchControl(link: Link, ch: Channel): void {
    ch.on('error', (error: Error) => {
      link.lastError = errorMessage(error);
      this.log.warn({ err: error }, 'RabbitMQ control channel error');
    });
    ch.on('close', () => {
      if (link.ctl === ch) link.ctl = undefined;
    });
    ch.on('handler-error', (error: Error, event: string) => this.log.error({ err: error, event }, 'a RabbitMQ channel handler threw'));
  }

  /** An unexpected close of a publish or consumer channel drops the connection (see the header). */
  private watchChannel(link: Link, ch: Channel, what: string, current: () => boolean): void {
    ch.on('error', (error: Error) => {
      link.lastError = errorMessage(error);
      this.log.warn({ err: error }, `RabbitMQ ${what} error`);
    });
    ch.on('close', () => {
      if (!current()) return;
      // Deferred: when the connection itself goes, its close event (with the real reason) comes right after.
      setImmediate(() => {
        if (current()) this.failLink(link, `${what} closed${link.lastError ? `: ${link.lastError}` : ''}`);
      });
    });
    ch.on('handler-error', (error: Error, event: string) => this.log.error({ err: error, event }, 'a RabbitMQ channel handler threw'));
  }

  /** Gives up on this connection: closes it; its close event (or this call) leads to lose(). */
  private failLink(link: Link | undefined, reason: string): void {
    if (!link || link.lost) return;
    this.lose(link, reason);
    link.conn.close().catch(() => undefined);
  }

  /** The connection is gone: fail its pending publishes, forget its channels, report, reconnect. */
  private lose(link: Link, reason: string): void {
    if (link.lost) return;
    link.lost = true;
    link.ready = false;
    for (const [id, p] of link.pending) {
      link.pending.delete(id);
      this.clock.clearTimeout(p.timer);
      p.reject(new BrokerUnavailableError(`connection to RabbitMQ lost before the confirm (${reason})`));
    }
    for (const c of this.consumers) {
      if (c.link === link) {
        c.channel = undefined;
        c.consumerTag = undefined;
        c.link = undefined;
      }
    }
    if (this.link !== link) return;
    this.link = undefined;
    if (this.closed) return;
    this.down(reason);
  }

  private down(reason: string): void {
    this.up = false;
    if (this.closed) return;
    const delay = backoffDelay(this.reconnectPolicy, this.attempt++, this.random());
    this.log.warn({ reason, retryInMs: delay }, 'RabbitMQ is down');
    this.emit({ type: 'down', reason, retryInMs: delay });
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => void this.connect(), delay);
  }

  private emit(event: BrokerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error, event: event.type }, 'broker event listener threw');
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.up = false;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    for (const c of this.consumers) c.end({ reason: 'broker-closed' });
    this.consumers.clear();
    const link = this.link;
    if (!link) return;
    this.lose(link, 'broker closed');
    // Bounded: a connection whose peer went silent may never answer Close-Ok.
    let timer: TimerHandle | undefined;
    const closing = link.conn.close().catch(() => undefined);
    const bounded = await Promise.race([
      closing.then(() => true),
      new Promise<boolean>((resolve) => (timer = this.clock.setTimeout(() => resolve(false), 2_000))),
    ]);
    this.clock.clearTimeout(timer);
    if (!bounded) (link.conn as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

/** Builds the broker; it connects in the background and reports through `on`. */
export function createAmqpBroker(options: AmqpBrokerOptions): AmqpBroker {
  return new AmqpBroker(options);
}
