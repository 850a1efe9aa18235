// The RabbitMQ topology of dispatch, as data built from options, and the one function that declares it.
import { PRIORITY_QUEUES, type PriorityQueue } from '../../domain/priority.js';

export const DEAD_LETTER_QUEUE = 'dead_letters';
export type DeadLetterQueue = typeof DEAD_LETTER_QUEUE;

/** Every queue a consumer may read: the four priority queues and the dead-letter queue. */
export type BrokerQueue = PriorityQueue | DeadLetterQueue;

export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [1_000, 10_000, 60_000];
export const DEFAULT_DELIVERY_LIMIT = 5;

export interface TopologyOptions {
  /** Delays of the retry queues, in ms (any order; duplicates ignored). @defaultValue [1_000, 10_000, 60_000] */
  readonly retryTiersMs?: readonly number[];
  /** Returns (nack with requeue, or a consumer lost with the message unacked) before a message is dead-lettered. @defaultValue 5 */
  readonly deliveryLimit?: number;
  /**
   * Replicas of each quorum queue when it is created (x-quorum-initial-group-size), e.g. 3 on a three-node cluster.
   * @defaultValue undefined: RabbitMQ's own default
   */
  readonly quorumGroupSize?: number | undefined;
}

/** Headers the broker layer sets; consumers read them through `Delivery`, operators in the management UI. */
export const HEADERS = {
  /** Retry attempt the message is on (1 after the first retry). */
  attempt: 'x-attempt',
  /** Why it was sent through a retry queue the last time. */
  retryReason: 'x-retry-reason',
  /** Why it was dead-lettered by the application (`deadLetter`); the broker's own reasons are in x-death. */
  deadReason: 'x-dead-reason',
  /** Attempts made before the application dead-lettered it. */
  attempts: 'x-attempts',
  /** The priority queue it came from. */
  originQueue: 'x-origin-queue',
} as const;

export interface ExchangeDeclaration {
  readonly name: string;
  readonly type: 'direct' | 'fanout';
}

export interface QueueDeclaration {
  readonly name: string;
  readonly arguments: Readonly<Record<string, string | number>>;
}

export interface BindingDeclaration {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
}

export interface RetryQueue {
  readonly name: string;
  readonly queue: PriorityQueue;
  readonly delayMs: number;
}

export interface Topology {
  readonly queues: readonly PriorityQueue[];
  readonly deadLetterQueue: DeadLetterQueue;
  /** Where messages are published, by queue name. */
  readonly exchange: string;
  /** Where retries are published, by retry queue name. */
  readonly retryExchange: string;
  /** Where rejected, over-limit and application dead letters go. */
  readonly deadLetterExchange: string;
  /** Sorted ascending, unique, each > 0. */
  readonly retryTiersMs: readonly number[];
  readonly deliveryLimit: number;
  /** x-quorum-initial-group-size of every queue, or undefined for RabbitMQ's default. */
  readonly quorumGroupSize: number | undefined;
  readonly retryQueues: readonly RetryQueue[];
  readonly exchanges: readonly ExchangeDeclaration[];
  readonly declarations: readonly QueueDeclaration[];
  readonly bindings: readonly BindingDeclaration[];
}

export function retryQueueName(queue: PriorityQueue, delayMs: number): string {
  return `retry.${queue}.${delayMs}`;
}

/**
 * Builds the topology; throws RangeError on tiers or a limit RabbitMQ would not take.
 *
 *   publish ──▶ exchange `dispatch` (direct, key = queue name) ──▶ urgent | high_priority | normal | low_priority
 *                                                                    │ reject / past x-delivery-limit
 *                                                                    ▼
 *   exchange `dispatch.dead-letter` (fanout) ──▶ dead_letters        (x-death keeps the reason)
 *
 *   retry ──▶ exchange `dispatch.retry` (direct, key = retry queue name) ──▶ retry.<queue>.<ms> (x-message-ttl = ms)
 *                                                                    │ expired
 *                                                                    ▼
 *             exchange `dispatch` with x-dead-letter-routing-key = <queue> ──▶ back to its priority queue
 *
 * Every queue is a durable quorum queue: quorum queues alone have x-delivery-limit and at-least-once
 * dead-lettering, which needs x-overflow=reject-publish on the queue that dead-letters (RabbitMQ 3.10).
 * Declaring is idempotent as long as the arguments are unchanged; a queue declared before with other
 * arguments (another delivery limit) fails with PRECONDITION_FAILED — new retry tiers only add queues. The one
 * exception is the initial group size (declareTopology).
 */
export function buildTopology(options: TopologyOptions = {}): Topology {
  const tiers = [...new Set(options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS)].sort((a, b) => a - b);
  if (tiers.length === 0) throw new RangeError('at least one retry tier is needed');
  for (const t of tiers) if (!Number.isInteger(t) || t <= 0) throw new RangeError(`retry tier ${t} ms is not a positive whole number of ms`);
  const deliveryLimit = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
  if (!Number.isInteger(deliveryLimit) || deliveryLimit < 0) throw new RangeError(`delivery limit ${deliveryLimit} is not a whole number >= 0`);
  const quorumGroupSize = options.quorumGroupSize;
  if (quorumGroupSize !== undefined && (!Number.isInteger(quorumGroupSize) || quorumGroupSize < 1)) throw new RangeError(`quorum group size ${quorumGroupSize} is not a whole number >= 1`);
  const quorum = { 'x-queue-type': 'quorum', ...(quorumGroupSize !== undefined ? { [GROUP_SIZE]: quorumGroupSize } : {}) } as const;

  const exchange = 'dispatch';
  const retryExchange = 'dispatch.retry';
  const deadLetterExchange = 'dispatch.dead-letter';
  // At-least-once dead-lettering: the source queue keeps a message until the target queue confirmed it.
  const atLeastOnce = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } as const;

  const declarations: QueueDeclaration[] = [];
  const bindings: BindingDeclaration[] = [];
  const retryQueues: RetryQueue[] = [];
  for (const queue of PRIORITY_QUEUES) {
    declarations.push({
      name: queue,
      arguments: { ...quorum, 'x-delivery-limit': deliveryLimit, 'x-dead-letter-exchange': deadLetterExchange, ...atLeastOnce },
    });
    bindings.push({ queue, exchange, routingKey: queue });
    for (const delayMs of tiers) {
      const name = retryQueueName(queue, delayMs);
      retryQueues.push({ name, queue, delayMs });
      declarations.push({
        name,
        arguments: {
          ...quorum,
          'x-message-ttl': delayMs,
          'x-dead-letter-exchange': exchange,
          'x-dead-letter-routing-key': queue,
          ...atLeastOnce,
        },
      });
      bindings.push({ queue: name, exchange: retryExchange, routingKey: name });
    }
  }
  declarations.push({ name: DEAD_LETTER_QUEUE, arguments: { ...quorum } });
  bindings.push({ queue: DEAD_LETTER_QUEUE, exchange: deadLetterExchange, routingKey: '' });

  return {
    queues: PRIORITY_QUEUES,
    deadLetterQueue: DEAD_LETTER_QUEUE,
    exchange,
    retryExchange,
    deadLetterExchange,
    retryTiersMs: tiers,
    deliveryLimit,
    quorumGroupSize,
    retryQueues,
    exchanges: [
      { name: exchange, type: 'direct' },
      { name: retryExchange, type: 'direct' },
      { name: deadLetterExchange, type: 'fanout' },
    ],
    declarations,
    bindings,
  };
}

/** The smallest tier that is at least `delayMs`, or the largest tier when the delay is longer than all. */
export function retryTierFor(topology: Pick<Topology, 'retryTiersMs'>, delayMs: number): number {
  const tiers = topology.retryTiersMs;
  return tiers.find((t) => t >= delayMs) ?? tiers[tiers.length - 1]!;
}

/** The part of an amqplib channel that declaring needs (a fake one in unit tests). */
export interface DeclaringChannel {
  assertExchange(exchange: string, type: string, options?: { durable?: boolean }): Promise<unknown>;
  assertQueue(queue: string, options?: { durable?: boolean; arguments?: Record<string, unknown> }): Promise<unknown>;
  bindQueue(queue: string, source: string, pattern: string): Promise<unknown>;
}

export interface DeclareOptions {
  /** A new channel: RabbitMQ closes the one a declaration failed on. Without it a group size mismatch throws. */
  readonly reopen?: () => Promise<DeclaringChannel>;
  /** Told of a queue that exists with another initial group size than the one configured, and is kept so. */
  readonly onGroupSizeKept?: (queue: string, existing: number | undefined, configured: number | undefined) => void;
}

const GROUP_SIZE = 'x-quorum-initial-group-size';
// RabbitMQ 3.10's words (rabbit_misc:assert_args_equivalence): "... but current is none", "... current is '3'" or
// "... current is the value '3' of type 'byte'" (test/integration/broker-quorum-group-size.test.ts pins them).
const GROUP_SIZE_MISMATCH = /inequivalent arg 'x-quorum-initial-group-size'.* current is (?:none|(?:the value )?'(\d+)')/;

/** The group size an existing queue has, when `error` is RabbitMQ refusing a declaration over it alone. */
export function existingGroupSize(error: unknown): { existing: number | undefined } | undefined {
  const m = error instanceof Error ? GROUP_SIZE_MISMATCH.exec(error.message) : null;
  return m ? { existing: m[1] === undefined ? undefined : Number(m[1]) } : undefined;
}

/**
 * Declares every exchange, queue and binding; idempotent while the arguments are unchanged. The initial group size
 * is part of RabbitMQ's equivalence check (a queue that exists, declared with another one, fails PRECONDITION_FAILED)
 * but only matters when the queue is created: an existing queue's members are changed with `rabbitmq-queues grow`
 * / `shrink`, not by this argument. So a queue refused for that argument alone is declared again, on a new channel,
 * with the size it has (every other argument is still checked), and reported: setting BROKER_QUORUM_GROUP_SIZE on a
 * running system must not stop every process from connecting. Returns the channel in use at the end.
 */
export async function declareTopology(channel: DeclaringChannel, topology: Topology, options: DeclareOptions = {}): Promise<DeclaringChannel> {
  let ch = channel;
  for (const e of topology.exchanges) await ch.assertExchange(e.name, e.type, { durable: true });
  for (const q of topology.declarations) {
    try {
      await ch.assertQueue(q.name, { durable: true, arguments: { ...q.arguments } });
    } catch (error) {
      const found = existingGroupSize(error);
      if (!found || !options.reopen) throw error;
      ch = await options.reopen();
      const { [GROUP_SIZE]: _configured, ...rest } = q.arguments;
      await ch.assertQueue(q.name, { durable: true, arguments: found.existing === undefined ? rest : { ...rest, [GROUP_SIZE]: found.existing } });
      options.onGroupSizeKept?.(q.name, found.existing, topology.quorumGroupSize);
    }
  }
  for (const b of topology.bindings) await ch.bindQueue(b.queue, b.exchange, b.routingKey);
  return ch;
}
