// The in-process broker behind the Broker interface, for `npm start` without AMQP_URL: a DEMO ONLY —
// messages live in this process's memory and are lost when it stops. It keeps RabbitMQ's rules that the
// app relies on: per-consumer prefetch and manual acks, returned messages go back to the head of their
// queue, the delivery limit dead-letters (reason `delivery_limit`, as x-death), reject dead-letters
// (`rejected`), retries wait in tiers on the injected clock and come back with their attempt.
import type { Clock, TimerHandle } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import {
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
  type HeaderValue,
  type Outcome,
  type PublishOptions,
  type RetryOptions,
} from './broker.js';
import {
  DEAD_LETTER_QUEUE,
  HEADERS,
  buildTopology,
  retryQueueName,
  retryTierFor,
  type BrokerQueue,
  type Topology,
  type TopologyOptions,
} from './topology.js';
import { PRIORITY_QUEUES, type PriorityQueue } from '../../domain/priority.js';

export interface MemoryBrokerOptions {
  readonly clock: Clock;
  readonly topology?: TopologyOptions;
  readonly log?: Logger;
}

interface StoredMessage {
  readonly body: Buffer;
  readonly messageId: string | undefined;
  headers: Record<string, unknown>;
  readonly priority: number | undefined;
  /** Returns so far (x-delivery-count). */
  deliveryCount: number;
  redelivered: boolean;
}

interface MemConsumer {
  readonly queue: BrokerQueue;
  readonly prefetch: number;
  readonly handler: Handler;
  inFlight: number;
  paused: boolean;
  cancelled: boolean;
  readonly settledWaiters: Array<() => void>;
  end(end: ConsumerEnd): void;
}

interface MemQueue {
  readonly ready: StoredMessage[];
  readonly consumers: MemConsumer[];
  next: number;
}

export interface MemoryQueueStats {
  readonly ready: number;
  readonly unacked: number;
  readonly consumers: number;
}

export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  readonly topology: Topology;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly queues = new Map<BrokerQueue, MemQueue>();
  private readonly retryTimers = new Set<TimerHandle>();
  /** Messages waiting in each retry queue, by retry queue name. */
  private readonly retrying = new Map<string, number>();
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private closed = false;

  constructor(options: MemoryBrokerOptions) {
    this.clock = options.clock;
    this.log = options.log ?? silentLogger();
    this.topology = buildTopology(options.topology);
    for (const q of [...PRIORITY_QUEUES, DEAD_LETTER_QUEUE] as const) this.queues.set(q, { ready: [], consumers: [], next: 0 });
  }

  get isUp(): boolean {
    return !this.closed;
  }

  readonly unconfirmed = 0;

  publish(queue: PriorityQueue, body: Buffer, options: PublishOptions): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the in-process broker is closed'));
    this.enqueue(queue, this.message(body, options.messageId, { ...options.headers }, options.priority));
    return Promise.resolve();
  }

  retry(queue: PriorityQueue, body: Buffer, options: RetryOptions): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the in-process broker is closed'));
    const tier = retryTierFor(this.topology, options.delayMs);
    const name = retryQueueName(queue, tier);
    const headers: Record<string, unknown> = { ...options.headers, [HEADERS.attempt]: options.attempt, [HEADERS.retryReason]: options.reason };
    const msg = this.message(body, options.messageId, headers, options.priority);
    this.retrying.set(name, (this.retrying.get(name) ?? 0) + 1);
    const timer = this.clock.setTimeout(() => {
      this.retryTimers.delete(timer);
      this.retrying.set(name, (this.retrying.get(name) ?? 1) - 1);
      if (this.closed) return;
      addDeath(msg, name, 'expired', this.topology.retryExchange, name);
      this.enqueue(queue, msg);
    }, tier);
    this.retryTimers.add(timer);
    return Promise.resolve();
  }

  deadLetter(queue: PriorityQueue, body: Buffer, reason: string, attempts: number, options: DeadLetterOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the in-process broker is closed'));
    const headers: Record<string, HeaderValue> = { ...options.headers, [HEADERS.deadReason]: reason, [HEADERS.attempts]: attempts, [HEADERS.originQueue]: queue };
    this.enqueue(DEAD_LETTER_QUEUE, this.message(body, options.messageId, headers, undefined));
    return Promise.resolve();
  }

  consume(queue: BrokerQueue, options: ConsumeOptions, handler: Handler): Promise<ConsumerHandle> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the in-process broker is closed'));
    if (!Number.isInteger(options.prefetch) || options.prefetch < 1) return Promise.reject(new RangeError(`prefetch must be a whole number >= 1, not ${options.prefetch}`));
    const q = this.queue(queue);
    let resolveEnded!: (e: ConsumerEnd) => void;
    const ended = new Promise<ConsumerEnd>((resolve) => (resolveEnded = resolve));
    let endedOnce = false;
    const consumer: MemConsumer = {
      queue,
      prefetch: options.prefetch,
      handler,
      inFlight: 0,
      paused: options.paused === true,
      cancelled: false,
      settledWaiters: [],
      end: (e) => {
        if (endedOnce) return;
        endedOnce = true;
        resolveEnded(e);
      },
    };
    q.consumers.push(consumer);
    const handle: ConsumerHandle = {
      queue,
      get paused() {
        return consumer.paused;
      },
      ended,
      pause: async () => {
        consumer.paused = true;
      },
      resume: async () => {
        if (consumer.cancelled) return;
        consumer.paused = false;
        this.dispatch(queue);
      },
      cancel: async () => {
        if (!consumer.cancelled) {
          consumer.cancelled = true;
          const i = q.consumers.indexOf(consumer);
          if (i >= 0) q.consumers.splice(i, 1);
        }
        while (consumer.inFlight > 0) await new Promise<void>((resolve) => consumer.settledWaiters.push(resolve));
        consumer.end({ reason: 'cancelled' });
      },
    };
    this.dispatch(queue);
    return Promise.resolve(handle);
  }

  consumerCount(queue: BrokerQueue): Promise<number> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the in-process broker is closed'));
    return Promise.resolve(this.queue(queue).consumers.filter((c) => !c.paused && !c.cancelled).length);
  }

  async queueDepth(queue: BrokerQueue): Promise<{ messages: number; consumers: number }> {
    const consumers = await this.consumerCount(queue);
    return { messages: this.queue(queue).ready.length, consumers };
  }

  on(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What each queue holds now (for tests and the demo's view); retry queues by name. */
  stats(): { queues: Record<BrokerQueue, MemoryQueueStats>; retrying: Record<string, number> } {
    const queues = {} as Record<BrokerQueue, MemoryQueueStats>;
    for (const [name, q] of this.queues) {
      queues[name] = {
        ready: q.ready.length,
        unacked: q.consumers.reduce((n, c) => n + c.inFlight, 0),
        consumers: q.consumers.filter((c) => !c.paused && !c.cancelled).length,
      };
    }
    return { queues, retrying: Object.fromEntries([...this.retrying].filter(([, n]) => n > 0)) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.retryTimers) this.clock.clearTimeout(t);
    this.retryTimers.clear();
    for (const q of this.queues.values()) {
      for (const c of q.consumers.splice(0)) {
        c.cancelled = true;
        c.end({ reason: 'broker-closed' });
        for (const w of c.settledWaiters.splice(0)) w();
      }
      q.ready.length = 0;
    }
    for (const l of this.listeners) {
      try {
        l({ type: 'down', reason: 'closed' });
      } catch (error) {
        this.log.error({ err: error }, 'broker event listener failed');
      }
    }
  }

  private message(body: Buffer, messageId: string | undefined, headers: Record<string, unknown>, priority: number | undefined): StoredMessage {
    return { body: Buffer.from(body), messageId, headers, priority, deliveryCount: 0, redelivered: false };
  }

  private queue(name: BrokerQueue): MemQueue {
    const q = this.queues.get(name);
    if (!q) throw new RangeError(`no queue named ${name}`);
    return q;
  }

  private enqueue(queue: BrokerQueue, msg: StoredMessage): void {
    this.queue(queue).ready.push(msg);
    this.dispatch(queue);
  }

  /** Hands ready messages to consumers with room under their prefetch, round-robin. */
  private dispatch(queue: BrokerQueue): void {
    const q = this.queue(queue);
    while (q.ready.length > 0 && !this.closed) {
      const n = q.consumers.length;
      let chosen: MemConsumer | undefined;
      for (let i = 0; i < n; i++) {
        const c = q.consumers[(q.next + i) % n]!;
        if (!c.paused && !c.cancelled && c.inFlight < c.prefetch) {
          chosen = c;
          q.next = (q.next + i + 1) % n;
          break;
        }
      }
      if (!chosen) return;
      this.deliver(chosen, q.ready.shift()!);
    }
  }

  private deliver(consumer: MemConsumer, msg: StoredMessage): void {
    consumer.inFlight++;
    const delivery: Delivery = {
      queue: consumer.queue,
      body: msg.body,
      messageId: msg.messageId,
      headers: { ...msg.headers, ...(msg.deliveryCount > 0 ? { 'x-delivery-count': msg.deliveryCount } : {}) },
      priority: msg.priority,
      redelivered: msg.redelivered,
      deliveryCount: msg.deliveryCount,
      attempt: headerCount(msg.headers[HEADERS.attempt]),
    };
    // Called on a later microtask, never inside publish or settle (as a network delivery would be).
    Promise.resolve()
      .then(() => consumer.handler(delivery))
      .catch((error: unknown): Outcome => {
        this.log.warn({ err: error, queue: consumer.queue, messageId: msg.messageId }, 'consumer handler failed; message returned to its queue');
        return 'nack-requeue';
      })
      .then((outcome) => this.settle(consumer, msg, outcome));
  }

  private settle(consumer: MemConsumer, msg: StoredMessage, outcome: Outcome): void {
    consumer.inFlight--;
    for (const w of consumer.settledWaiters.splice(0)) w();
    if (this.closed) return;
    const queue = consumer.queue;
    if (outcome === 'nack-requeue') {
      msg.deliveryCount++;
      msg.redelivered = true;
      if (queue !== DEAD_LETTER_QUEUE && msg.deliveryCount > this.topology.deliveryLimit) this.brokerDeadLetter(queue, msg, 'delivery_limit');
      else this.queue(queue).ready.unshift(msg); // returned messages go back to the head, as in a quorum queue
    } else if (outcome === 'reject') {
      if (queue !== DEAD_LETTER_QUEUE) this.brokerDeadLetter(queue, msg, 'rejected');
      // rejected from the dead-letter queue: dropped (it has no dead-letter exchange)
    }
    this.dispatch(queue);
  }

  private brokerDeadLetter(queue: PriorityQueue, msg: StoredMessage, reason: 'delivery_limit' | 'rejected'): void {
    addDeath(msg, queue, reason, this.topology.exchange, queue);
    msg.deliveryCount = 0;
    msg.redelivered = false;
    this.enqueue(DEAD_LETTER_QUEUE, msg);
  }
}

/** Records a death as RabbitMQ does: x-death, most recent first, counted per (queue, reason); x-first-death-* once. */
function addDeath(msg: StoredMessage, queue: string, reason: string, exchange: string, routingKey: string): void {
  const deaths = Array.isArray(msg.headers['x-death']) ? [...(msg.headers['x-death'] as Array<Record<string, unknown>>)] : [];
  const i = deaths.findIndex((d) => d['queue'] === queue && d['reason'] === reason);
  const previous = i >= 0 ? deaths.splice(i, 1)[0]! : undefined;
  deaths.unshift({ count: headerCount(previous?.['count']) + 1, reason, queue, exchange, 'routing-keys': [routingKey] });
  msg.headers = { ...msg.headers, 'x-death': deaths };
  if (msg.headers['x-first-death-reason'] === undefined) {
    msg.headers['x-first-death-reason'] = reason;
    msg.headers['x-first-death-queue'] = queue;
    msg.headers['x-first-death-exchange'] = exchange;
  }
}
