// The message broker as the rest of the app sees it: publish on confirm, consume with manual acks, retry
// through TTL tiers, dead-letter with a reason. Two implementations: AmqpBroker (RabbitMQ, amqplib) and
// MemoryBroker (in process, for `npm start` without AMQP_URL — a demo, nothing survives a restart).
import { ServiceUnavailableError, AppError } from '../../errors/app-error.js';
import { HEADERS, type BrokerQueue } from './topology.js';
import type { PriorityQueue } from '../../domain/priority.js';


/** AMQP header values the app sets (a subset of what an AMQP table can carry). */
export type HeaderValue = string | number | boolean;

export interface PublishOptions {
  /** Deterministic id (e.g. `<job>:<batch>`): consumers use it to tell a redelivered copy from new work. */
  readonly messageId: string;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  /** Carried as the AMQP priority property; quorum queues do not order by it (priority is the queue). */
  readonly priority?: number;
}

export interface RetryOptions extends PublishOptions {
  /** The attempt the message will be on when it comes back (1 for the first retry). */
  readonly attempt: number;
  /** Wanted delay; the smallest tier >= it is used (the largest tier when it is longer than all). */
  readonly delayMs: number;
  readonly reason: string;
}

export interface DeadLetterOptions {
  readonly messageId?: string;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
}

/** One message handed to a consumer. */
export interface Delivery {
  readonly queue: BrokerQueue;
  readonly body: Buffer;
  readonly messageId: string | undefined;
  /** The application's headers and the broker's (x-death …), as received. */
  readonly headers: Readonly<Record<string, unknown>>;
  readonly priority: number | undefined;
  /** True when the broker handed this message out before (returned, or its consumer was lost). */
  readonly redelivered: boolean;
  /** Times the message was returned to this queue before (x-delivery-count); 0 on a first delivery. */
  readonly deliveryCount: number;
  /** Retry attempt from the retry queues (x-attempt); 0 before any retry. */
  readonly attempt: number;
}

/**
 * What the handler decides: `ack` (done), `nack-requeue` (put back; counts towards the delivery limit, past
 * which the broker dead-letters it with reason `delivery_limit`), `reject` (dead-lettered at once, reason
 * `rejected`). A handler that throws counts as `nack-requeue`.
 */
export type Outcome = 'ack' | 'nack-requeue' | 'reject';
export type Handler = (delivery: Delivery) => Promise<Outcome>;

export interface ConsumeOptions {
  /** Unacked deliveries this consumer holds at most. */
  readonly prefetch: number;
  /** Registered paused (no basic.consume until `resume`): a queue paused before its consumer starts. @defaultValue false */
  readonly paused?: boolean;
}

export type ConsumerEnd = { readonly reason: 'cancelled' } | { readonly reason: 'broker-closed' };

export interface ConsumerHandle {
  readonly queue: BrokerQueue;
  /** Stops new deliveries (basic.cancel); deliveries in flight still settle. A paused consumer is not counted by consumerCount. */
  pause(): Promise<void>;
  /** Subscribes again after pause (at once, or at the next reconnect while the broker is down). */
  resume(): Promise<void>;
  /** Stops for good: no new deliveries; resolves once the deliveries in flight have settled. */
  cancel(): Promise<void>;
  readonly paused: boolean;
  /** Settles when this consumer ends: cancelled, or its broker closed (then ask the broker actor for a new handle). */
  readonly ended: Promise<ConsumerEnd>;
}

/**
 * `up` names the node connected to (host:port, RabbitMQ only); `down` comes on every lost connection and every
 * failed attempt, with the node tried next and the delay before that attempt.
 */
export type BrokerEvent =
  | { readonly type: 'up'; readonly node?: string }
  | { readonly type: 'down'; readonly reason: string; readonly retryInMs?: number; readonly next?: string };

export interface Broker {
  /** `memory` or `amqp`, for logs and readiness detail. */
  readonly kind: 'memory' | 'amqp';
  /** True while connected (always for the memory broker until closed). */
  readonly isUp: boolean;
  /** Publishes sent and not yet confirmed (0 for the memory broker, which confirms at once). */
  readonly unconfirmed: number;
  /**
   * Resolves once the broker confirmed the message (persisted in its queue); rejects otherwise:
   * BROKER_UNAVAILABLE when not connected or the connection was lost before the confirm (it may or may not
   * have been stored: publish again, consumers dedupe by messageId), BROKER_REJECTED on a nack or no route.
   */
  publish(queue: PriorityQueue, body: Buffer, options: PublishOptions): Promise<void>;
  /** Publishes into the retry queue of `queue` whose delay is the smallest tier >= delayMs; resolves on confirm. */
  retry(queue: PriorityQueue, body: Buffer, options: RetryOptions): Promise<void>;
  /** Publishes into the dead-letter queue with the reason and attempt count; resolves on confirm. */
  deadLetter(queue: PriorityQueue, body: Buffer, reason: string, attempts: number, options?: DeadLetterOptions): Promise<void>;
  /**
   * Subscribes `handler` with manual acks and `prefetch` unacked at most. The subscription outlives
   * reconnects (re-consumed after each); deliveries of a lost connection are not settled (the broker
   * redelivers them). Resolves once registered, even while the broker is down.
   */
  consume(queue: BrokerQueue, options: ConsumeOptions, handler: Handler): Promise<ConsumerHandle>;
  /** Consumers subscribed to the queue across all processes (checkQueue); rejects BROKER_UNAVAILABLE while down. */
  consumerCount(queue: BrokerQueue): Promise<number>;
  /** Ready messages and consumers of the queue (one checkQueue); rejects BROKER_UNAVAILABLE while down. */
  queueDepth(queue: BrokerQueue): Promise<{ messages: number; consumers: number }>;
  /** Connection state changes; a listener that throws is logged, never propagated. Returns the unsubscribe. */
  on(listener: (event: BrokerEvent) => void): () => void;
  /** Cancels consumers, closes the connection; pending publishes reject. Safe to call twice. */
  close(): Promise<void>;
}

/** The broker is not connected, or lost the connection before it confirmed. Publish again later. */
export class BrokerUnavailableError extends ServiceUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('broker', message, 1_000, 'BROKER_UNAVAILABLE', options);
  }
}

/** The broker refused the message (nack, no queue bound to the routing key). Publishing again may not help. */
export class BrokerRejectedError extends AppError {
  readonly code = 'BROKER_REJECTED';
  constructor(
    readonly queue: string,
    message: string,
  ) {
    super(message);
  }
}

/** Why a message sits in the dead-letter queue, from the application's headers or the broker's x-death. */
export interface DeadLetterInfo {
  /** The priority queue it died in (or was dead-lettered from). */
  readonly queue: string | undefined;
  /** `delivery_limit` or `rejected` (the broker's, from the latest x-death entry) or the application's reason. */
  readonly reason: string;
  /**
   * Attempts made: the count given to `deadLetter`, or for the broker's reasons the retry attempt the
   * message was on (x-attempt; 0 if it was never retried: it then died on its first trip through the queue).
   */
  readonly attempts: number;
}

export function deadLetterInfo(headers: Readonly<Record<string, unknown>>): DeadLetterInfo {
  const own = headers[HEADERS.deadReason];
  if (typeof own === 'string') {
    const origin = headers[HEADERS.originQueue];
    return { queue: typeof origin === 'string' ? origin : undefined, reason: own, attempts: headerCount(headers[HEADERS.attempts]) };
  }
  // x-death lists the most recent death first (a retried message also has `expired` entries of its retry queues).
  const deaths = headers['x-death'];
  const last = Array.isArray(deaths) && typeof deaths[0] === 'object' && deaths[0] !== null ? (deaths[0] as Record<string, unknown>) : {};
  const reason = last['reason'] ?? headers['x-first-death-reason'];
  const queue = last['queue'] ?? headers['x-first-death-queue'];
  return {
    queue: typeof queue === 'string' ? queue : undefined,
    reason: typeof reason === 'string' ? reason : 'unknown',
    attempts: headerCount(headers[HEADERS.attempt]),
  };
}

/** Whole number >= 0 from a header value, else 0. */
export function headerCount(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : typeof value === 'bigint' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}
