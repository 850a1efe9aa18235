// The worker's consumers: one supervisor per priority queue, each holding that queue's consumer actor, so a
// queue whose consumer keeps crashing gives up alone and the other three keep being served.
import { queueConsumerActor, type QueueConsumerOptions } from '../../actors/dispatch/queue-consumer-actor.js';
import { PRIORITY_QUEUES, type PriorityQueue } from '../../src/domain/priority.js';
import { consumerName, consumerSupervisorName } from '../../src/dispatch/consumer-messages.js';
import { actor, supervisor, type SupervisorSpec } from '../child-spec.js';

export interface ConsumersOptions {
  /** Prefetch (handlers running at once) per queue. */
  readonly prefetch: Readonly<Record<PriorityQueue, number>>;
  readonly handle: QueueConsumerOptions['handle'];
  /** Time a stopping consumer gives its in-flight handlers to settle. @defaultValue 15_000 */
  readonly drainTimeoutMs?: number;
  /** Passed to each consumer (broker actor name, ask deadline, retry wait). */
  readonly consumer?: Pick<QueueConsumerOptions, 'brokerActor' | 'askTimeoutMs' | 'retryMs'>;
  /** The stored pause of a queue (queue_pauses), read before each subscription and on `apply-pauses`. */
  readonly pauseOf?: QueueConsumerOptions['pauseOf'];
}

export const CONSUMERS = 'consumers';

export function consumersSupervisor(opts: ConsumersOptions): SupervisorSpec {
  return supervisor({
    name: CONSUMERS,
    children: PRIORITY_QUEUES.map((queue) =>
      supervisor({
        name: consumerSupervisorName(queue),
        intensity: { maxRestarts: 5, withinMs: 60_000 },
        shutdownTimeoutMs: (opts.drainTimeoutMs ?? 15_000) + 1_000,
        children: [
          actor({
            name: consumerName(queue),
            readiness: 'required',
            shutdownTimeoutMs: opts.drainTimeoutMs ?? 15_000,
            behaviour: queueConsumerActor({ queue, prefetch: opts.prefetch[queue], handle: opts.handle, ...opts.consumer, ...(opts.pauseOf ? { pauseOf: opts.pauseOf } : {}) }),
          }),
        ],
      }),
    ),
  });
}
