// The reference actor: one ReferenceService read per message.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { ReferenceMessage } from '../../src/contracts/reference-messages.js';
import { ReferenceService } from '../../src/reference/reference-service.js';
import type { Resources } from '../../src/resources.js';
import { serviceActor } from './service-actor.js';

export function referenceActor(res: Resources): () => ActorBehaviour<ReferenceService, ReferenceMessage> {
  return serviceActor<ReferenceService, ReferenceMessage>({
    service: () => new ReferenceService(res),
    operations: { 'notification-types': (s) => s.notificationTypes() },
  });
}
