// The reference actor: one ReferenceService read or admin edit per message.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { ReferenceMessage } from '../../src/contracts/reference-messages.js';
import type { ReferenceService } from '../../src/reference/index.js';
import { serviceActor } from './service-actor.js';

export function referenceActor(service: () => ReferenceService): () => ActorBehaviour<ReferenceService, ReferenceMessage> {
  return serviceActor<ReferenceService, ReferenceMessage>({
    service,
    operations: {
      'notification-types': (s) => s.notificationTypes(),
      agencies: (s, m) => s.agencies(m.caller, m.all),
      'tariff-thresholds': (s, m) => s.tariffThresholds(m.tariff),
      'request-types': (s, m) => s.requestTypes(m.caller, m.all),
      'create-agency': (s, m) => s.createAgency(m.caller, m.input),
      'update-agency': (s, m) => s.updateAgency(m.caller, m.code, m.input),
      'delete-agency': (s, m) => s.deleteAgency(m.caller, m.code),
      'put-tariff-threshold': (s, m) => s.putTariffThreshold(m.caller, m.tariff, m.band, m.input),
      'delete-tariff-threshold': (s, m) => s.deleteTariffThreshold(m.caller, m.tariff, m.band),
      'put-notification-type': (s, m) => s.putNotificationType(m.caller, m.code, m.input),
      'create-request-type': (s, m) => s.createRequestType(m.caller, m.input),
      'update-request-type': (s, m) => s.updateRequestType(m.caller, m.code, m.input),
      'delete-request-type': (s, m) => s.deleteRequestType(m.caller, m.code),
    },
  });
}
