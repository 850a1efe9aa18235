// The Broker over RabbitMQ with amqplib: keeps one connection at a time (a link, amqp-link.ts) up, to one node of
// the list, moving on to the next node when it is lost (node-rotation.ts); publishes with confirms
// (confirmed-publisher.ts) and runs the consumers (amqp-consumers.ts) on it.
import amqp, { type Channel, type ChannelModel, type Message } from 'amqplib';
import { SystemClock, type Clock, type TimerHandle } from '../../clock.js';
import type { BackoffPolicy } from '../../backoff.js';
import { errorMessage } from '../../errors/app-error.js';
import { silentLogger, type Logger } from '../../logger.js';
import { BrokerUnavailableError, type Broker, type BrokerEvent, type ConsumeOptions, type ConsumerHandle, type DeadLetterOptions, type Handler, type PublishOptions, type RetryOptions } from './broker.js';
import { AmqpConsumers } from './amqp-consumers.js';
import { returnKey, type Link, type LinkKeeper } from './amqp-link.js';
import { ConfirmedPublisher } from './confirmed-publisher.js';
import { NodeRotation, withHeartbeat } from './node-rotation.js';
import type { PriorityQueue } from '../../domain/priority.js';
import { HEADERS, buildTopology, declareTopology, retryQueueName, retryTierFor, type BrokerQueue, type Topology, type TopologyOptions } from './topology.js';

export interface AmqpBrokerOptions {
  /** The nodes, amqp://user:pass@host:port/vhost each (one node, or a cluster's). */
  readonly urls: readonly string[];
  /** Position in `urls` of the node tried first. @defaultValue a random one (node-rotation.ts says why) */
  readonly firstNode?: number | undefined;
  readonly topology?: TopologyOptions;
  /** Shown in the management UI and `rabbitmqctl list_connections`. @defaultValue 'samaconso' */
  readonly connectionName?: string;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
  /**
   * Delays between rounds of connection attempts (each node tried once per round, without delay inside a round).
   * @defaultValue { minMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2, resetAfterMs: 5_000 }
   */
  readonly reconnect?: Partial<BackoffPolicy>;
  /** AMQP heartbeat: a silent dead peer is noticed within about twice this. @defaultValue 10 */
  readonly heartbeatSeconds?: number;
  /** TCP connect and AMQP handshake bound. @defaultValue 5_000 */
  readonly connectTimeoutMs?: number;
  /** A publish not confirmed within this rejects with BROKER_UNAVAILABLE. @defaultValue 10_000 */
  readonly confirmTimeoutMs?: number;
}

// resetAfterMs: a connection that held 5 s was a good one; one lost sooner keeps counting towards the backoff.
const RECONNECT: BackoffPolicy = { minMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2, resetAfterMs: 5_000 };

/**
 * A lost connection (or a failed attempt) emits `down` and tries the next node of the list: at once within a round,
 * after the backoff (src/backoff.ts, on the injected clock) once every node failed in turn; each new connection declares the topology again and re-subscribes every consumer that is not
 * paused or cancelled, then emits `up`. Nothing here throws out of an amqplib event handler: listeners are wrapped
 * and errors logged.
 */
export class AmqpBroker implements Broker {
  readonly kind = 'amqp' as const;
  readonly topology: Topology;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly rotation: NodeRotation;
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly publisher: ConfirmedPublisher;
  private readonly consumers: AmqpConsumers;
  private link: Link | undefined;
  private up = false;
  private closed = false;
  private gen = 0;
  private reconnectTimer: TimerHandle | undefined;

  constructor(private readonly options: AmqpBrokerOptions) {
    this.topology = buildTopology(options.topology);
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLogger();
    this.rotation = new NodeRotation(options.urls, { ...RECONNECT, ...options.reconnect }, { first: options.firstNode, random: this.random });
    // What the publisher and the consumers see of this broker: its current link, and the way to give up on one.
    const links: LinkKeeper = {
      isClosed: () => this.closed,
      current: () => this.link,
      failLink: (link, reason) => this.failLink(link, reason),
      watchChannel: (link, ch, what, current) => this.watchChannel(link, ch, what, current),
    };
    this.publisher = new ConfirmedPublisher(links, this.clock, options.confirmTimeoutMs ?? 10_000);
    this.consumers = new AmqpConsumers(links, this.log);
    void this.connect();
  }

  get isUp(): boolean {
    return this.up;
  }

  get unconfirmed(): number {
    return this.link?.pending.size ?? 0;
  }

  publish(queue: PriorityQueue, body: Buffer, options: PublishOptions): Promise<void> {
    const headers = { ...options.headers };
    return this.publisher.send({ exchange: this.topology.exchange, routingKey: queue, queue, body, messageId: options.messageId, priority: options.priority, headers });
  }

  /** To the retry queue of the smallest tier that covers the wanted delay; it dead-letters back to `queue`. */
  retry(queue: PriorityQueue, body: Buffer, options: RetryOptions): Promise<void> {
    const name = retryQueueName(queue, retryTierFor(this.topology, options.delayMs));
    const headers = { ...options.headers, [HEADERS.attempt]: options.attempt, [HEADERS.retryReason]: options.reason };
    return this.publisher.send({ exchange: this.topology.retryExchange, routingKey: name, queue, body, messageId: options.messageId, priority: options.priority, headers });
  }

  deadLetter(queue: PriorityQueue, body: Buffer, reason: string, attempts: number, options: DeadLetterOptions = {}): Promise<void> {
    const headers = { ...options.headers, [HEADERS.deadReason]: reason, [HEADERS.attempts]: attempts, [HEADERS.originQueue]: queue };
    return this.publisher.send({ exchange: this.topology.deadLetterExchange, routingKey: queue, queue, body, messageId: options.messageId, headers });
  }

  consume(queue: BrokerQueue, options: ConsumeOptions, handler: Handler): Promise<ConsumerHandle> {
    return this.consumers.consume(queue, options, handler);
  }

  async consumerCount(queue: BrokerQueue): Promise<number> {
    return (await this.queueDepth(queue)).consumers;
  }

  async queueDepth(queue: BrokerQueue): Promise<{ messages: number; consumers: number }> {
    if (this.closed) throw new BrokerUnavailableError('the broker connection is closed');
    const link = this.link;
    if (!link || !link.ready || link.lost) throw new BrokerUnavailableError('not connected to RabbitMQ');
    try {
      if (!link.ctl) {
        const ctl = await link.conn.createChannel();
        this.watchControl(link, ctl);
        link.ctl = ctl;
      }
      const { messageCount, consumerCount } = await link.ctl.checkQueue(queue);
      return { messages: messageCount, consumers: consumerCount };
    } catch (error) {
      if (link.lost) throw new BrokerUnavailableError(`connection to RabbitMQ lost (${errorMessage(error)})`, { cause: error });
      throw error;
    }
  }

  on(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const gen = ++this.gen;
    const node = this.rotation.address;
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(withHeartbeat(this.rotation.url, this.options.heartbeatSeconds ?? 10), {
        timeout: this.options.connectTimeoutMs ?? 5_000,
        // amqplib turns Nagle on by default: small frames (a confirm, an ack, one urgent message) then wait for
        // the peer's delayed ACK, ~40 ms under load (bench/RESULTS.md, dispatch: urgent latency).
        noDelay: true,
        clientProperties: { connection_name: this.options.connectionName ?? 'samaconso' },
      });
    } catch (error) {
      this.down(`cannot connect to RabbitMQ at ${node}: ${errorMessage(error)}`);
      return;
    }
    if (this.closed) {
      await conn.close().catch(() => undefined);
      return;
    }
    const link: Link = { gen, node, conn, ctl: undefined, pub: undefined, ready: false, lost: false, pending: new Map(), returned: new Map(), lastError: undefined };
    this.link = link;
    conn.on('error', (error: Error) => {
      link.lastError = errorMessage(error);
      this.log.warn({ err: error }, 'RabbitMQ connection error');
    });
    conn.on('close', (error?: Error) => this.lose(link, `connection to RabbitMQ at ${node} closed${error ? `: ${errorMessage(error)}` : link.lastError ? `: ${link.lastError}` : ''}`));
    conn.on('blocked', (reason: string) => this.log.warn({ reason }, 'RabbitMQ blocked this connection (resource alarm): publishes wait'));
    conn.on('unblocked', () => this.log.info('RabbitMQ unblocked this connection'));
    conn.on('handler-error', (error: Error, event: string) => this.log.error({ err: error, event }, 'a RabbitMQ event handler threw'));
    try {
      const ctl = await conn.createChannel();
      this.watchControl(link, ctl);
      link.ctl = ctl;
      await declareTopology(ctl, this.topology, {
        reopen: async () => {
          const again = await conn.createChannel();
          this.watchControl(link, again);
          link.ctl = again;
          return again;
        },
        onGroupSizeKept: (queue, existing, configured) =>
          this.log.warn(
            { queue, existing: existing ?? 'RabbitMQ default', configured: configured ?? 'RabbitMQ default' },
            `queue ${queue} exists with another initial group size than configured: kept (change its members with rabbitmq-queues grow / shrink)`,
          ),
      });
      const pub = await conn.createConfirmChannel();
      this.watchChannel(link, pub, 'publish channel', () => link.pub === pub);
      pub.on('return', (m: Message) => {
        const key = returnKey(m.fields.routingKey, typeof m.properties.messageId === 'string' ? m.properties.messageId : undefined);
        link.returned.set(key, (link.returned.get(key) ?? 0) + 1);
      });
      link.pub = pub;
      link.ready = true;
      await this.consumers.subscribeAll();
    } catch (error) {
      this.failLink(link, `setting up RabbitMQ at ${node} failed: ${link.lastError ?? errorMessage(error)}`);
      return;
    }
    if (link.lost || this.link !== link || this.closed) return;
    this.rotation.connected(this.clock.now());
    this.up = true;
    this.log.info({ node, consumers: this.consumers.size }, `RabbitMQ is up: connected to ${node}`);
    this.emit({ type: 'up', node });
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

  /**
   * Any unexpected close of a publish or consumer channel (a bug such as a double ack, a consumer cancelled by the
   * broker because its queue was deleted) drops the whole connection: the reconnect path is the one that rebuilds
   * everything.
   */
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
    this.consumers.detach(link);
    if (this.link !== link) return;
    this.link = undefined;
    if (this.closed) return;
    this.down(reason);
  }

  private down(reason: string): void {
    this.up = false;
    if (this.closed) return;
    const next = this.rotation.failed(this.clock.now());
    this.log.warn({ reason, next: next.address, retryInMs: next.delayMs }, 'RabbitMQ is down');
    this.emit({ type: 'down', reason, retryInMs: next.delayMs, next: next.address });
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => void this.connect(), next.delayMs);
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
    this.consumers.endAll();
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
