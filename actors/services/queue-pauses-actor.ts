// The queue-pauses actor: one QueuePauseService operation per message.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { QueuePausesMessage } from '../../src/contracts/queue-pauses-messages.js';
import type { QueuePauseService } from '../../src/dispatch/queue-pause-service.js';
import { serviceActor } from './service-actor.js';

export const QUEUE_PAUSES = 'queue-pauses';

export function queuePausesActor(service: () => QueuePauseService): () => ActorBehaviour<QueuePauseService, QueuePausesMessage> {
  return serviceActor<QueuePauseService, QueuePausesMessage>({
    service,
    operations: {
      pause: (s, m) => s.pause(m.caller, m.queue, m.reason),
      resume: (s, m) => s.resume(m.caller, m.queue, m.reason),
    },
  });
}
