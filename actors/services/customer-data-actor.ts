// The customer-data actor: one lookup of the utility's data per message (subscription requests today).
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { CustomerDataMessage } from '../../src/contracts/customer-data-messages.js';
import type { SubscriptionLookup } from '../../src/customer-data/index.js';
import { serviceActor } from './service-actor.js';

export function customerDataActor(build: () => SubscriptionLookup): () => ActorBehaviour<SubscriptionLookup, CustomerDataMessage> {
  return serviceActor<SubscriptionLookup, CustomerDataMessage>({
    service: build,
    operations: { subscription: (s, msg) => s.steps(msg.input) },
  });
}
