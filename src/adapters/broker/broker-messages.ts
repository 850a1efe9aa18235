// Messages of the broker resource actor: it owns the Broker (RabbitMQ or in process) and hands it out.
import type { Broker } from './broker.js';
import type { PriorityQueue } from '../../domain/priority.js';
import type { Reply } from '../../contracts/reply.js';

export interface QueueConsumers {
  readonly queue: PriorityQueue;
  /** Consumers subscribed to the queue in every process (RabbitMQ's checkQueue count). */
  readonly consumers: number;
  /** True when nobody consumes the queue: its messages wait. */
  readonly flagged: boolean;
}

export interface ConsumerCounts {
  /** The four priority queues, in priority order. */
  readonly queues: readonly QueueConsumers[];
  /** The queues with no consumer (empty when all four are served). */
  readonly flagged: readonly PriorityQueue[];
}

/** Ready messages and consumers of one priority queue (RabbitMQ's checkQueue), for /metrics. */
export interface QueueDepthReading {
  readonly queue: PriorityQueue;
  readonly messages: number;
  readonly consumers: number;
}

export type BrokerMessage =
  /**
   * The Broker, also while RabbitMQ is down: its publishes then reject at once with BROKER_UNAVAILABLE and its
   * consumers subscribe when it is back. A new handle is needed only after this actor restarted (the old
   * broker is closed: `ConsumerHandle.ended` settles with `broker-closed`).
   */
  | { type: 'lend'; replyTo: Reply<Broker> }
  /** Consumer count of each priority queue; fails with BROKER_UNAVAILABLE while RabbitMQ is down. */
  | { type: 'consumer-counts'; replyTo: Reply<ConsumerCounts> }
  /** Ready messages and consumers of each priority queue; fails with BROKER_UNAVAILABLE while RabbitMQ is down. */
  | { type: 'queue-depths'; replyTo: Reply<readonly QueueDepthReading[]> };
