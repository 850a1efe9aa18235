// The meter-data actor: one read of a linked meter's data per message (purchases, bills, monthly totals, contract).
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { MeterDataMessage } from '../../src/contracts/meter-data-messages.js';
import type { MeterReads } from '../../src/meters/index.js';
import { serviceActor } from './service-actor.js';

export function meterDataActor(build: () => MeterReads): () => ActorBehaviour<MeterReads, MeterDataMessage> {
  return serviceActor<MeterReads, MeterDataMessage>({
    service: build,
    operations: {
      purchases: (s, msg) => s.purchases(msg.caller, msg.linkId, msg.query),
      'monthly-purchases': (s, msg) => s.monthlyPurchases(msg.caller, msg.linkId, msg.query),
      bills: (s, msg) => s.bills(msg.caller, msg.linkId, msg.query),
      'monthly-bills': (s, msg) => s.monthlyBills(msg.caller, msg.linkId, msg.query),
      contract: (s, msg) => s.contract(msg.caller, msg.linkId),
    },
  });
}
