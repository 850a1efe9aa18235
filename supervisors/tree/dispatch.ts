// The worker's side: the FCM pool (sender threads, rate limit, push scheduler), then the consumers, then the job
// reaper. In this order so on shutdown the consumers stop first (no new deliveries; those in flight are sent and
// acked) and the pool after.
import { fcmPoolActor, type FcmPoolActorOptions } from '../../actors/dispatch/fcm-pool-actor.js';
import { jobReaperActor } from '../../actors/dispatch/job-reaper-actor.js';
import type { Config } from '../../src/config.js';
import { FCM_POOL } from '../../src/dispatch/fcm-pool-messages.js';
import { PRIORITY_QUEUES, type PriorityQueue } from '../../src/domain/priority.js';
import { dispatchHandlerFor } from '../../src/dispatch/dispatch-factory.js';
import { MAX_FANOUT_BATCH } from '../../src/dispatch/fan-out.js';
import { actor, type ChildSpec } from '../child-spec.js';
import { consumersSupervisor } from './consumers.js';
import type { TreeContext } from './tree-context.js';

/** Without an FCM project outside the demo and tests the worker side does not start: its queues wait in RabbitMQ
 *  (the API flags them as unconsumed) rather than be consumed by a sender that could not deliver. */
export const runsDispatch = (config: Config): boolean => config.role !== 'api' && config.dispatch.fcm.mode !== 'none';

function fcmPoolOptions(config: Config): FcmPoolActorOptions {
  const d = config.dispatch;
  return {
    sender:
      d.fcm.mode === 'fcm'
        ? {
            mode: 'pool',
            threads: d.fcm.threads,
            urgentThreads: d.fcm.urgentThreads,
            options: { projectId: d.fcm.projectId, credential: d.fcm.credentialsFile, transport: d.fcm.transport, proxyUrl: d.fcm.proxyUrl, extraCaFile: d.fcm.extraCaFile, maxInFlight: d.fcm.sendsPerThread, sessions: d.fcm.sessionsPerThread },
            // 0: V8's default, i.e. no limit given to Node (which would take 0 literally)
            resourceLimits: {
              ...(d.fcm.threadMaxOldMb > 0 ? { maxOldGenerationSizeMb: d.fcm.threadMaxOldMb } : {}),
              ...(d.fcm.threadMaxYoungMb > 0 ? { maxYoungGenerationSizeMb: d.fcm.threadMaxYoungMb } : {}),
            },
          }
        : { mode: 'sandbox' },
    rateLimit:
      config.cache.mode === 'redis'
        ? { mode: 'redis', url: config.cache.url, projectId: d.fcm.mode === 'fcm' ? d.fcm.projectId : 'sandbox', ratePerMinute: d.ratePerMinute, workerCount: d.workerCount }
        : { mode: 'local', ratePerMinute: d.ratePerMinute },
    scheduler: {
      maxInFlight: d.batchesInFlight,
      reservedForUrgent: d.urgentReserved,
      weights: d.weights,
      splitLowAbove: d.lowSplit,
      // What the prefetch can deliver of full batches: the scheduler holds the consumers' deliveries.
      capacity: Object.fromEntries(PRIORITY_QUEUES.map((q) => [q, d.prefetch[q] * MAX_FANOUT_BATCH])) as Record<PriorityQueue, number>,
    },
    ...(d.progress.step > 0 ? { progress: d.progress } : {}),
  };
}

export function dispatchChildren(ctx: TreeContext): ChildSpec[] {
  const { config } = ctx;
  return [
    actor({ name: FCM_POOL, readiness: 'required', shutdownTimeoutMs: config.shutdownTimeoutMs, behaviour: fcmPoolActor(fcmPoolOptions(config)) }),
    consumersSupervisor({ prefetch: config.dispatch.prefetch, handle: dispatchHandlerFor(config, ctx.asker, ctx), drainTimeoutMs: config.shutdownTimeoutMs }),
    // Settles what lost messages left unsettled; optional: a pass that fails waits for the next one.
    actor({ name: 'job-reaper', readiness: 'optional', behaviour: jobReaperActor(config.dispatch.reaper) }),
  ];
}
