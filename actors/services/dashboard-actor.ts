// The dashboard actor: one DashboardService read per message.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { DashboardMessage } from '../../src/contracts/dashboard-messages.js';
import type { DashboardService } from '../../src/dashboard/index.js';
import { serviceActor } from './service-actor.js';

export function dashboardActor(service: () => DashboardService): () => ActorBehaviour<DashboardService, DashboardMessage> {
  return serviceActor<DashboardService, DashboardMessage>({
    service,
    operations: { read: (s, m) => s.read(m.caller, m.agency) },
  });
}
