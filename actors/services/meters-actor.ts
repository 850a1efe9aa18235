// The meters actor: one MeterLinkService operation per message; a link or decision that wrote a notification kicks
// the outbox relay so it is published at once rather than at the next poll.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { MetersMessage } from '../../src/contracts/meters-messages.js';
import type { OutboxRelayMessage } from '../../src/contracts/notifications-messages.js';
import type { MeterLinkService } from '../../src/meters/index.js';
import { serviceActor } from './service-actor.js';

export function metersActor(service: () => MeterLinkService, options: { relayName?: string } = {}): () => ActorBehaviour<MeterLinkService, MetersMessage> {
  return serviceActor<MeterLinkService, MetersMessage>({
    service,
    operations: {
      link: (s, m) => s.link(m.caller, m.input, m.ip),
      list: (s, m) => s.list(m.caller),
      unlink: (s, m) => s.unlink(m.caller, m.linkId),
      'set-default': (s, m) => s.setDefault(m.caller, m.linkId),
      requests: (s, m) => s.requests(m.caller, m.limit),
      decide: (s, m) => s.decide(m.caller, m.linkId, m.decision),
    },
    // A pending link or a decision may have written an outbox row; an empty kick costs the relay one poll.
    afterReply: (msg, _value, ctx) => {
      if (msg.type === 'link' || msg.type === 'decide') ctx.ref<OutboxRelayMessage>(options.relayName ?? 'outbox-relay').tell({ type: 'kick' });
    },
  });
}
