// The notification-jobs actor: one NotificationJobService operation per message; a newly accepted job kicks the
// outbox relay so it is published at once rather than at the next poll.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { NotificationJobsMessage, OutboxRelayMessage } from '../../src/contracts/notifications-messages.js';
import type { NotificationJobService } from '../../src/notifications/notification-jobs.js';
import { serviceActor } from './service-actor.js';

/** `relayName`: the outbox relay to kick after an accept (a missing relay is a counted dead letter, nothing more). */
export function notificationJobsActor(service: () => NotificationJobService, options: { relayName?: string } = {}): () => ActorBehaviour<NotificationJobService, NotificationJobsMessage> {
  return serviceActor<NotificationJobService, NotificationJobsMessage>({
    service,
    operations: {
      accept: (s, m) => s.accept(m.caller, m.input),
      status: (s, m) => s.status(m.caller, m.jobId),
    },
    afterReply: (msg, value, ctx) => {
      if (msg.type === 'accept' && !(value as { replayed: boolean }).replayed) ctx.ref<OutboxRelayMessage>(options.relayName ?? 'outbox-relay').tell({ type: 'kick' });
    },
  });
}
