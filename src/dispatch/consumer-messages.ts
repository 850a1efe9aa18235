// Messages of a queue consumer actor: one per priority queue, it owns that queue's subscription.
import type { BrokerQueue } from '../adapters/broker/topology.js';
import type { Reply } from '../contracts/reply.js';

/** The actor's unique name for a queue (`consumer.urgent` …; nact allows no colon). */
export const consumerName = (queue: BrokerQueue): string => `consumer.${queue}`;
/** The supervisor holding that queue's consumer (`consumer-urgent` …). */
export const consumerSupervisorName = (queue: BrokerQueue): string => `consumer-${queue}`;

export interface ConsumerStats {
  readonly queue: BrokerQueue;
  readonly prefetch: number;
  /** Subscribed through a consumer handle (also while paused or while the broker is down). */
  readonly attached: boolean;
  /** Why it is paused, or undefined when it is not. */
  readonly pausedReason: string | undefined;
  /** Deliveries handed to the handler by this incarnation. */
  readonly deliveries: number;
  readonly acks: number;
  /** nack-requeue outcomes, handler failures included. */
  readonly nacks: number;
  readonly rejects: number;
  /** Handlers that threw (each counted in `nacks` too). */
  readonly failures: number;
  /** Handlers running now. */
  readonly inFlight: number;
  /** Most handlers seen running at once (never above prefetch). */
  readonly maxInFlight: number;
  /** Times the subscription was taken again after the broker actor restarted. */
  readonly resubscribes: number;
}

export type ConsumerMessage =
  /** Stops new deliveries (those in flight still settle); the actor reports `paused` with the reason. */
  | { type: 'pause'; reason: string; replyTo?: Reply<void> }
  /** Subscribes again after a pause. */
  | { type: 'resume'; reason?: string; replyTo?: Reply<void> }
  /** Reads the queue's stored pause (queue_pauses) again and pauses or resumes to match; replies once applied. */
  | { type: 'apply-pauses'; replyTo?: Reply<void> }
  | { type: 'stats'; replyTo: Reply<ConsumerStats> };
