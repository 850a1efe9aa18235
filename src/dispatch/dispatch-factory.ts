// How the worker's delivery handler is built from config and the actors it uses (broker, FCM pool, PostgreSQL).
import type { Asker } from '../actor-behaviour.js';
import type { BrokerMessage } from '../adapters/broker/broker-messages.js';
import { FCM_POOL, type FcmPoolMessage } from './fcm-pool-messages.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { LiveBus } from '../adapters/live-bus/live-bus.js';
import type { NodeIdentity } from '../cluster/index.js';
import type { Logger } from '../logger.js';
import { resources } from '../resources.js';
import type { Delivery, Outcome } from '../adapters/broker/broker.js';
import { createDispatchHandler } from './dispatch-handler.js';

export interface DispatchDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly liveBus: LiveBus;
  readonly identity: NodeIdentity;
}

export function dispatchHandlerFor(config: Config, asker: Asker, deps: DispatchDeps): (delivery: Delivery) => Promise<Outcome> {
  const d = config.dispatch;
  const res = resources(asker);
  const log = deps.log.child({ part: 'dispatch' });
  return createDispatchHandler({
    db: () => res.db(),
    broker: () => asker.ask(asker.ref<BrokerMessage>('broker'), 'lend', {}, 1_000),
    pipeline: () => asker.ask(asker.ref<FcmPoolMessage>(FCM_POOL), 'lend', {}, 1_000),
    clock: deps.clock,
    maxAttempts: d.maxSendAttempts,
    deliveryLimit: config.broker.deliveryLimit,
    live: deps.liveBus,
    claimOwner: config.nodeId,
    holder: deps.identity.incarnation,
    claimLeaseMs: d.claimLeaseMs,
    outageHoldMs: d.outageHoldMs,
    onOutage: (detail, retryInMs) => log.warn({ retryInMs }, `delivery held while a dependency is away (${detail}); handled again in ${retryInMs} ms`),
    onResult: (r) => {
      if (r.outcome === 'ack') log.debug(r, 'delivery handled');
      else log.warn(r, `delivery ${r.outcome === 'reject' ? 'rejected (dead-lettered)' : 'returned to its queue'}: ${r.detail}`);
    },
  });
}
