// The inbox actor: one InboxService operation per message.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { InboxMessage } from '../../src/contracts/inbox-messages.js';
import type { InboxService } from '../../src/inbox/inbox-service.js';
import { serviceActor } from './service-actor.js';

export function inboxActor(service: () => InboxService): () => ActorBehaviour<InboxService, InboxMessage> {
  return serviceActor<InboxService, InboxMessage>({
    service,
    operations: {
      list: (s, m) => s.list(m.caller, m.options),
      'mark-read': (s, m) => s.markRead(m.caller, m.id),
      'mark-all-read': (s, m) => s.markAllRead(m.caller),
      delete: (s, m) => s.delete(m.caller, m.id),
    },
  });
}
