// The broker-admin actor: on-call's view of the broker (management API counters, dead letters and their replay) and
// of recent jobs. Optional in the tree: the management API being away never takes the API out of the load balancer.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { BrokerAdminMessage } from '../../src/contracts/operations-messages.js';
import type { BrokerAdminService } from '../../src/operations/broker-admin.js';
import { serviceActor } from './service-actor.js';

export function brokerAdminActor(service: () => BrokerAdminService): () => ActorBehaviour<BrokerAdminService, BrokerAdminMessage> {
  return serviceActor<BrokerAdminService, BrokerAdminMessage>({
    service,
    operations: {
      queues: (s) => s.queues(),
      jobs: (s, m) => s.jobs(m.query),
      'dead-letters': (s, m) => s.deadLetters(m.limit),
      replay: (s, m) => s.replay(m.caller, m.body),
    },
  });
}
