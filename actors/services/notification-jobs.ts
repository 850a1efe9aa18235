// The notification-jobs actor: each message starts one NotificationJobService operation and replies when it
// settles; a newly accepted job kicks the outbox relay so it is published at once rather than at the next poll.
import type { ActorBehaviour, ActorRef } from '../../src/actor-behaviour.js';
import type { NotificationJobsMessage, OutboxRelayMessage } from '../../src/contracts/notifications.js';
import type { Reply } from '../../src/contracts/reply.js';
import type { NotificationJobService } from '../../src/notifications/notification-jobs.js';

type Operations = { [K in NotificationJobsMessage['type']]: (s: NotificationJobService, m: Extract<NotificationJobsMessage, { type: K }>) => Promise<unknown> };

const operations: Operations = {
  accept: (s, m) => s.accept(m.caller, m.input),
  status: (s, m) => s.status(m.caller, m.jobId),
};

interface State {
  readonly service: NotificationJobService;
  readonly relay: ActorRef<OutboxRelayMessage>;
}

/** `relayName`: the outbox relay to kick after an accept (a missing relay is a counted dead letter, nothing more). */
export function notificationJobsActor(service: () => NotificationJobService, options: { relayName?: string } = {}): () => ActorBehaviour<State, NotificationJobsMessage> {
  return () => ({
    init: (ctx) => ({ service: service(), relay: ctx.ref<OutboxRelayMessage>(options.relayName ?? 'outbox-relay') }),
    handle(s, msg) {
      const run = operations[msg.type] as (s: NotificationJobService, m: NotificationJobsMessage) => Promise<unknown>;
      const reply = msg.replyTo as Reply<unknown>;
      run(s.service, msg).then(
        (v) => {
          reply.ok(v);
          if (msg.type === 'accept' && !(v as { replayed: boolean }).replayed) s.relay.tell({ type: 'kick' });
        },
        (e: Error) => reply.fail(e),
      );
      return s;
    },
  });
}
