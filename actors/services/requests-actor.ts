// The requests actor: one RequestsService operation per message. Filing carries the file's stream: the operation
// reads it outside the mailbox, so a slow upload never holds other messages; a change kicks the outbox relay so the
// author's notification is published at once rather than at the next poll.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { OutboxRelayMessage } from '../../src/contracts/notifications-messages.js';
import type { RequestsMessage } from '../../src/contracts/requests-messages.js';
import type { RequestsService } from '../../src/requests/index.js';
import { serviceActor } from './service-actor.js';

export function requestsActor(service: () => RequestsService, options: { relayName?: string } = {}): () => ActorBehaviour<RequestsService, RequestsMessage> {
  return serviceActor<RequestsService, RequestsMessage>({
    service,
    operations: {
      file: (s, m) => s.file(m.caller, m.fields, m.attachment),
      list: (s, m) => s.list(m.caller, m.query),
      get: (s, m) => s.get(m.caller, m.id),
      update: (s, m) => s.update(m.caller, m.id, m.input),
      attachment: (s, m) => s.attachment(m.caller, m.id),
    },
    afterReply: (msg, _value, ctx) => {
      if (msg.type === 'update') ctx.ref<OutboxRelayMessage>(options.relayName ?? 'outbox-relay').tell({ type: 'kick' });
    },
  });
}
