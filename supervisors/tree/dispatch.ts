// The worker's side: the FCM pool (sender threads, rate limit, push scheduler) under a supervisor of its own, `fcm`,
// so on-call can restart it alone (POST /admin/supervisors/fcm/restart); then the consumers, then the job reaper.
// In this order so on shutdown the consumers stop first (no new deliveries; those in flight are sent and acked) and
// the pool after.
import { fcmPoolActor } from '../../actors/dispatch/fcm-pool-actor.js';
import { jobReaperActor } from '../../actors/dispatch/job-reaper-actor.js';
import type { Config } from '../../src/config.js';
import { FCM_POOL } from '../../src/dispatch/fcm-pool-messages.js';
import { dispatchHandlerFor } from '../../src/dispatch/dispatch-factory.js';
import { fcmPoolOptionsFor } from '../../src/dispatch/fcm-pool-options.js';
import { pauseOf } from '../../src/dispatch/queue-pauses.js';
import { isPriorityQueue } from '../../src/domain/priority.js';
import { resources } from '../../src/resources.js';
import { actor, supervisor, type ChildSpec } from '../child-spec.js';
import { consumersSupervisor } from './consumers.js';
import type { TreeContext } from './tree-context.js';

/** Without an FCM project outside the demo and tests the worker side does not start: its queues wait in RabbitMQ
 *  (the API flags them as unconsumed) rather than be consumed by a sender that could not deliver. */
/** The supervisor holding the FCM pool: what on-call restarts when the senders are wedged. */
export const FCM_SUPERVISOR = 'fcm';

export const runsDispatch = (config: Config): boolean => config.role !== 'api' && config.dispatch.fcm.mode !== 'none';

export function dispatchChildren(ctx: TreeContext): ChildSpec[] {
  const { config } = ctx;
  // A consumer starting with its node waits for the database's first connection (and migrations) to read its pause.
  const db = resources(ctx.asker, 60_000);
  return [
    supervisor({
      name: FCM_SUPERVISOR,
      // A pool that keeps crashing gives up here and escalates to the root (as it did when it sat there).
      intensity: { maxRestarts: 5, withinMs: 60_000 },
      shutdownTimeoutMs: config.shutdownTimeoutMs + 1_000,
      children: [
        actor({ name: FCM_POOL, readiness: 'required', shutdownTimeoutMs: config.shutdownTimeoutMs, behaviour: fcmPoolActor({ ...fcmPoolOptionsFor(config), ...(ctx.pushObserver ? { observer: ctx.pushObserver } : {}) }) }),
      ],
    }),
    consumersSupervisor({
      prefetch: config.dispatch.prefetch,
      handle: dispatchHandlerFor(config, ctx.asker, ctx),
      drainTimeoutMs: config.shutdownTimeoutMs,
      // A pause survives a restart: each consumer reads its queue's pause before it subscribes.
      pauseOf: async (queue) => (isPriorityQueue(queue) ? (await pauseOf(await db.db(), queue))?.reason : undefined),
    }),
    // Settles what lost messages left unsettled; optional: a pass that fails waits for the next one.
    actor({ name: 'job-reaper', readiness: 'optional', behaviour: jobReaperActor(config.dispatch.reaper) }),
  ];
}
