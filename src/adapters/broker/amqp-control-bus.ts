// The control bus over RabbitMQ: a non-durable topic exchange `samaconso.control`. Each node listens on an
// exclusive, auto-deleted queue of its own bound to `node.<id>`, `node.*all*` and, on nodes keeping snapshots,
// `snapshot.#`: a node that dies takes its queue with it, so nothing piles up for the gone. Its own connection
// (named `samaconso-control-<role>`: apart from the work connection `samaconso-<role>` in RabbitMQ's list), so on-call can still reach a node whose work connection is busy or being restarted;
// on a lost connection it moves on to the next node of the list (node-rotation.ts: at once within a round, after a
// backoff once every node failed) and subscribes again there. Messages are transient and expire: a command is answered
// in seconds or its sender has given up (timeout), and a stale snapshot is worth nothing.
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { BackoffPolicy } from '../../backoff.js';
import { errorMessage } from '../../errors/app-error.js';
import { silentLogger, type Logger } from '../../logger.js';
import { BrokerUnavailableError } from './broker.js';
import { NodeRotation, withHeartbeat } from './node-rotation.js';
import { EVERY_NODE, type ControlBus, type ControlListen } from './control-bus.js';

export const CONTROL_EXCHANGE = 'samaconso.control';
const ALL_KEY = 'node.*all*';
const nodeKey = (nodeId: string): string => (nodeId === EVERY_NODE ? ALL_KEY : `node.${nodeId}`);

export interface AmqpControlBusOptions {
  /** The nodes (one, or a cluster's). */
  readonly urls: readonly string[];
  /** Position of the node tried first. @defaultValue a random one */
  readonly firstNode?: number | undefined;
  /** The connection's name in RabbitMQ. @defaultValue samaconso-control */
  readonly connectionName?: string;
  readonly log?: Logger;
  /** Per-message TTL in the queues. @defaultValue 30_000 */
  readonly messageTtlMs?: number;
  /** Delays between rounds of attempts (one per node). */
  readonly reconnect?: Partial<BackoffPolicy>;
}

const RECONNECT: BackoffPolicy = { minMs: 200, maxMs: 5_000, factor: 2, jitter: 0.2, resetAfterMs: 5_000 };

export class AmqpControlBus implements ControlBus {
  readonly kind = 'amqp' as const;
  private readonly log: Logger;
  private readonly rotation: NodeRotation;
  private conn: ChannelModel | undefined;
  private channel: Channel | undefined;
  private subscription: { options: ControlListen; handler: (message: unknown) => void } | undefined;
  /** The channel the subscription was made on: once per channel, whether connect() or listen() got there first. */
  private subscribedOn: Channel | undefined;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: AmqpControlBusOptions) {
    this.log = options.log ?? silentLogger();
    this.rotation = new NodeRotation(options.urls, { ...RECONNECT, ...options.reconnect }, { first: options.firstNode });
    this.connecting = this.connect();
  }

  get isUp(): boolean {
    return this.channel !== undefined;
  }

  async listen(options: ControlListen, handler: (message: unknown) => void): Promise<void> {
    if (this.subscription) throw new Error('this control bus listens already');
    this.subscription = { options, handler };
    await this.connecting;
    const ch = this.channel;
    if (ch) await this.subscribe(ch).catch((error: unknown) => this.log.warn({ err: error }, 'control bus: subscribing failed; again at the next connection'));
  }

  send(to: string, message: unknown): Promise<void> {
    return this.publish(nodeKey(to), message);
  }

  publishSnapshot(nodeId: string, message: unknown): Promise<void> {
    return this.publish(`snapshot.${nodeId}`, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.connecting?.catch(() => undefined);
    const conn = this.conn;
    this.conn = undefined;
    this.channel = undefined;
    await conn?.close().catch(() => undefined);
  }

  private publish(routingKey: string, message: unknown): Promise<void> {
    const ch = this.channel;
    if (this.closed || !ch) return Promise.reject(new BrokerUnavailableError('the control bus is not connected to RabbitMQ'));
    try {
      ch.publish(CONTROL_EXCHANGE, routingKey, Buffer.from(JSON.stringify(message)), {
        contentType: 'application/json',
        persistent: false,
        expiration: String(this.options.messageTtlMs ?? 30_000),
      });
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(new BrokerUnavailableError(`control bus publish failed: ${errorMessage(error)}`, { cause: error }));
    }
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    const node = this.rotation.address;
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(withHeartbeat(this.rotation.url, 10), { timeout: 5_000, noDelay: true, clientProperties: { connection_name: this.options.connectionName ?? 'samaconso-control' } });
    } catch (error) {
      this.retry(`cannot connect to ${node}: ${errorMessage(error)}`);
      return;
    }
    if (this.closed) {
      await conn.close().catch(() => undefined);
      return;
    }
    conn.on('error', (error: Error) => this.log.warn({ err: error }, 'control bus: RabbitMQ connection error'));
    conn.on('close', () => {
      if (this.conn !== conn) return;
      this.conn = undefined;
      this.channel = undefined;
      this.retry(`connection to ${node} closed`);
    });
    this.conn = conn;
    try {
      const ch = await conn.createChannel();
      ch.on('error', (error: Error) => this.log.warn({ err: error }, 'control bus: channel error'));
      await ch.assertExchange(CONTROL_EXCHANGE, 'topic', { durable: false });
      if (this.subscription) await this.subscribe(ch);
      this.channel = ch;
      this.rotation.connected(Date.now());
      this.log.info({ node }, `control bus: connected to ${node}`);
    } catch (error) {
      this.log.warn({ err: error }, 'control bus: setting up the channel failed');
      this.conn = undefined;
      await conn.close().catch(() => undefined);
      this.retry(`setup on ${node} failed: ${errorMessage(error)}`);
    }
  }

  private async subscribe(ch: Channel): Promise<void> {
    // Two queues bound for one node would deliver every command twice.
    if (this.subscribedOn === ch) return;
    this.subscribedOn = ch;
    const sub = this.subscription!;
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-message-ttl': this.options.messageTtlMs ?? 30_000 } });
    await ch.bindQueue(queue, CONTROL_EXCHANGE, nodeKey(sub.options.nodeId));
    await ch.bindQueue(queue, CONTROL_EXCHANGE, ALL_KEY);
    if (sub.options.snapshots) await ch.bindQueue(queue, CONTROL_EXCHANGE, 'snapshot.#');
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(m.content.toString('utf8'));
        } catch {
          this.log.warn('control bus: a message that is not JSON was dropped');
          return;
        }
        try {
          sub.handler(parsed);
        } catch (error) {
          this.log.error({ err: error }, 'control bus: the handler threw');
        }
      },
      { noAck: true },
    );
  }

  private retry(reason: string): void {
    if (this.closed) return;
    const next = this.rotation.failed(Date.now());
    this.log.warn({ reason, next: next.address, retryInMs: next.delayMs }, 'control bus: RabbitMQ unreachable');
    this.timer = setTimeout(() => {
      this.connecting = this.connect();
    }, next.delayMs);
    this.timer.unref();
  }
}
