// The inbox actor: each message starts one InboxService operation and replies when it settles.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { InboxMessage } from '../../src/contracts/inbox.js';
import type { Reply } from '../../src/contracts/reply.js';
import type { InboxService } from '../../src/inbox/inbox-service.js';

type Operations = { [K in InboxMessage['type']]: (s: InboxService, m: Extract<InboxMessage, { type: K }>) => Promise<unknown> };

const operations: Operations = {
  list: (s, m) => s.list(m.caller, m.options),
  'mark-read': (s, m) => s.markRead(m.caller, m.id),
  'mark-all-read': (s, m) => s.markAllRead(m.caller),
  delete: (s, m) => s.delete(m.caller, m.id),
};

interface State {
  readonly service: InboxService;
}

export function inboxActor(service: () => InboxService): () => ActorBehaviour<State, InboxMessage> {
  return () => ({
    init: () => ({ service: service() }),
    handle(s, msg) {
      const run = operations[msg.type] as (s: InboxService, m: InboxMessage) => Promise<unknown>;
      const reply = msg.replyTo as Reply<unknown>;
      run(s.service, msg).then(
        (v) => reply.ok(v),
        (e: Error) => reply.fail(e),
      );
      return s;
    },
  });
}
