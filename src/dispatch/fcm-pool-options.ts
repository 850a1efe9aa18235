// What the fcm-pool actor is built from: its sender (piscina threads, the sandbox, or any), rate limit, scheduler and
// progress chunking; `fcmPoolOptionsFor` reads them from the config.
import type { Config } from '../config.js';
import { PRIORITY_QUEUES, type PriorityQueue } from '../domain/priority.js';
import type { AnswerChunking } from '../adapters/fcm/answers.js';
import type { FcmMessage } from '../adapters/fcm/fcm-message.js';
import type { FcmOutcome } from '../adapters/fcm/fcm-outcome.js';
import type { BatchProgressListener, FcmPoolOptions, PoolSenderOptions } from '../adapters/fcm/fcm-pool.js';
import { MAX_FANOUT_BATCH } from './fan-out.js';
import type { PushPipelineOptions, PushObserver } from './push-pipeline.js';

export interface BatchSender {
  /** `progress`: answers told in chunks while the batch is in flight (senders that answer at once may ignore it). */
  sendBatch(messages: readonly FcmMessage[], urgent?: boolean, progress?: BatchProgressListener): Promise<FcmOutcome[]>;
  close(): Promise<void>;
}

export interface FcmPoolActorOptions {
  readonly sender:
    | { readonly mode: 'pool'; readonly threads: number; readonly urgentThreads: number; readonly options: PoolSenderOptions; readonly resourceLimits?: FcmPoolOptions['resourceLimits'] }
    | { readonly mode: 'sandbox' }
    /** Any sender (tests, benchmarks). */
    | { readonly mode: 'custom'; readonly create: () => BatchSender };
  /** The FCM project's bucket in Redis shared by all workers, or a local bucket (no Redis: the demo). */
  readonly rateLimit:
    | { readonly mode: 'redis'; readonly url: string; readonly projectId: string; readonly ratePerMinute: number; readonly workerCount: number }
    | { readonly mode: 'local'; readonly ratePerMinute: number };
  /** Slots, urgent's reserve, weights, low split and per-queue capacity (tokens). */
  readonly scheduler: PushPipelineOptions['scheduler'];
  /** How answers of a batch in flight are chunked for its progress record (absent: no progress while in flight). */
  readonly progress?: AnswerChunking;
  /** Hears sends and scheduler waits, for /metrics. */
  readonly observer?: PushObserver;
}

/** The fcm-pool actor's options from the config. */
export function fcmPoolOptionsFor(config: Config): FcmPoolActorOptions {
  const d = config.dispatch;
  return {
    sender:
      d.fcm.mode === 'fcm'
        ? {
            mode: 'pool',
            threads: d.fcm.threads,
            urgentThreads: d.fcm.urgentThreads,
            options: { projectId: d.fcm.projectId, credential: d.fcm.credentialsFile, transport: d.fcm.transport, proxyUrl: d.fcm.proxyUrl, extraCaFile: d.fcm.extraCaFile, maxInFlight: d.fcm.sendsPerThread, sessions: d.fcm.sessionsPerThread, requestTimeoutMs: d.fcm.requestTimeoutMs },
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
