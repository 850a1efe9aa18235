// The fcm-pool actor: owns the FCM sender (firebase-admin on piscina threads; in the demo and in tests without an
// FCM project, the sandbox that records sends), the send-rate limit (the Redis-shared bucket of the FCM project,
// or a local one) and the push pipeline between them, and hands the pipeline out. A restart closes the pipeline
// (batches not yet handed out fail; their deliveries go back to RabbitMQ), lets the batches in flight finish and
// ends the threads; the consumers' handler asks again for the new pipeline.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { Clock } from '../../src/clock.js';
import type { FcmPoolMessage, FcmPoolReport } from '../../src/dispatch/fcm-pool-messages.js';
import { PushPipeline } from '../../src/dispatch/push-pipeline.js';
import { SharedRateLimit } from '../../src/adapters/cache/shared-rate-limit.js';
import { TokenBucket, type RateLimit } from '../../src/domain/token-bucket.js';
import { createFcmPool, type FcmPool } from '../../src/adapters/fcm/fcm-pool.js';
import { createSandboxFcmSender } from '../../src/adapters/fcm/sandbox-sender.js';
import { errorMessage } from '../../src/errors/app-error.js';
import type { BatchSender, FcmPoolActorOptions } from '../../src/dispatch/fcm-pool-options.js';


interface State {
  readonly pipeline: PushPipeline;
  readonly sender: BatchSender;
  readonly pool: FcmPool | undefined;
  readonly rateLimit: RateLimit & { close?(): Promise<void> };
  readonly shared: SharedRateLimit | undefined;
}

function rateLimitFor(options: FcmPoolActorOptions['rateLimit'], clock: Clock, warn: (msg: string, err: unknown) => void): { limit: RateLimit & { close?(): Promise<void> }; shared: SharedRateLimit | undefined } {
  if (options.mode === 'local') return { limit: TokenBucket.perMinute(clock, options.ratePerMinute), shared: undefined };
  const shared = new SharedRateLimit({
    redis: options.url,
    clock,
    projectId: options.projectId,
    ratePerMinute: options.ratePerMinute,
    workerCount: options.workerCount,
    onFallback: (err) => warn(`FCM rate limit: Redis unreachable, sending at this worker's share (${Math.floor(options.ratePerMinute / options.workerCount)}/min) until it is back`, err),
  });
  return { limit: shared, shared };
}

export function fcmPoolActor(options: FcmPoolActorOptions): () => ActorBehaviour<State, FcmPoolMessage> {
  return () => ({
    init(ctx) {
      let pool: FcmPool | undefined;
      let sender: BatchSender;
      switch (options.sender.mode) {
        case 'pool':
          pool = createFcmPool({
            threads: options.sender.threads,
            urgentThreads: options.sender.urgentThreads,
            maxInFlight: options.scheduler.maxInFlight,
            sender: options.sender.options,
            ...(options.sender.resourceLimits ? { resourceLimits: options.sender.resourceLimits } : {}),
            onThreadError: (err) => ctx.log.error({ err }, 'FCM pool thread died with no batch of its own (out of memory?); piscina starts another unless it died while starting'),
          });
          sender = pool;
          break;
        case 'sandbox':
          ctx.log.warn('FCM sandbox (no FCM_PROJECT_ID): pushes are recorded in memory, not sent; development and tests only');
          {
            // It answers at once: nothing to tell while a batch is in flight.
            const sandbox = createSandboxFcmSender();
            sender = { sendBatch: (messages) => sandbox.sendBatch(messages), close: () => sandbox.close() };
          }
          break;
        case 'custom':
          sender = options.sender.create();
          break;
      }
      const { limit, shared } = rateLimitFor(options.rateLimit, ctx.clock, (msg, err) => ctx.log.warn({ err }, msg));
      const pipeline = new PushPipeline({
        clock: ctx.clock,
        rateLimit: limit,
        send: (messages, queue, onAnswers) =>
          sender.sendBatch(messages, queue === 'urgent', onAnswers && options.progress ? { onAnswers, chunking: options.progress } : undefined),
        scheduler: options.scheduler,
        ...(options.observer ? { observer: options.observer } : {}),
        onAlert: (count, first) =>
          ctx.log.error(
            { count, code: first.kind === 'fail' ? first.code : undefined, detail: first.kind === 'fail' ? first.detail : undefined },
            `FCM refused ${count} message(s) for a reason a person must fix (credentials, project, payload); no token was removed`,
          ),
        onPause: (until, retryAfterMs) =>
          ctx.log.warn({ until: new Date(until).toISOString(), retryAfterMs }, `FCM answered 429: sending paused for ${retryAfterMs} ms${shared ? ' on every worker' : ''}`),
      });
      ctx.setStatus('running');
      return { pipeline, sender, pool, rateLimit: limit, shared };
    },

    handle(s, msg) {
      switch (msg.type) {
        case 'lend':
          msg.replyTo.ok(s.pipeline);
          return s;
        case 'stats': {
          const report: FcmPoolReport = {
            sender: options.sender.mode,
            pipeline: s.pipeline.stats(),
            pool: s.pool?.stats(),
            rateLimit: s.shared?.stats(),
          };
          msg.replyTo.ok(report);
          return s;
        }
      }
    },

    async cleanup(s, ctx) {
      // Batches in flight finish (their consumers ack them); the rest fail and go back to RabbitMQ.
      await s.pipeline.close();
      const results = await Promise.allSettled([s.sender.close(), s.rateLimit.close?.()]);
      for (const r of results) if (r.status === 'rejected') ctx.log.warn({ err: r.reason }, `closing the FCM pool: ${errorMessage(r.reason)}`);
    },
  });
}
