// The outbox relay actor: publishes unpublished outbox rows on the broker, a batch at a time, polling on the
// injected clock and at once when kicked after an accept. RabbitMQ (or PostgreSQL) away is state — backing-off,
// with the next attempt on an exponential backoff — never a crash; the rows stay in the outbox meanwhile.
// Safe with several API instances: each batch is claimed with FOR UPDATE SKIP LOCKED (src/notifications/outbox-relay.ts).
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { BackoffPolicy } from '../../src/backoff.js';
import type { Broker } from '../../src/adapters/broker/broker.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import type { OutboxRelayMessage, RelayStats } from '../../src/contracts/notifications-messages.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { OutboxRelay, type RelayBatchResult } from '../../src/notifications/outbox-relay.js';
import { errorMessage } from '../../src/errors/app-error.js';
import { resources } from '../../src/resources.js';
import { DrainLoop, type DrainLoopMessage } from './drain-loop.js';

export interface OutboxRelayOptions {
  /** Rows per transaction. @defaultValue 100 */
  readonly batchSize?: number;
  /** Delay between polls when the outbox was empty. @defaultValue 1_000 */
  readonly pollMs?: number;
  /** Delays after a failed batch. @defaultValue { minMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2 } */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Where the database and the broker come from. @defaultValue the `postgres` and `broker` actors */
  readonly deps?: (ctx: ActorContext<Msg>) => { db(): Promise<PgHandle>; broker(): Promise<Broker> };
  /** @defaultValue Math.random */
  readonly random?: () => number;
}

const BACKOFF: BackoffPolicy = { minMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2, resetAfterMs: 60_000 };

type Msg = OutboxRelayMessage | DrainLoopMessage<RelayBatchResult>;

interface State {
  readonly relay: OutboxRelay;
  readonly loop: DrainLoop<RelayBatchResult>;
  published: number;
  failedAttempts: number;
  lastError: string | null;
}

export function outboxRelayActor(options: OutboxRelayOptions = {}): () => ActorBehaviour<State, Msg> {
  const pollMs = options.pollMs ?? 1_000;
  const backoff: BackoffPolicy = { ...BACKOFF, ...options.backoff };
  const random = options.random ?? Math.random;

  return () => ({
    init(ctx) {
      const deps = options.deps
        ? options.deps(ctx)
        : {
            db: resources(ctx).db,
            broker: () => ctx.ask(ctx.ref<BrokerMessage>('broker'), 'lend', {}, 1_000),
          };
      const relay = new OutboxRelay({ db: () => deps.db(), broker: () => deps.broker(), clock: ctx.clock, ...(options.batchSize ? { batchSize: options.batchSize } : {}) });
      const loop = new DrainLoop<RelayBatchResult>(ctx, (m) => ctx.self.tell(m), { batch: () => relay.relayBatch(), pollMs, backoff, random });
      loop.schedule(0); // rows left by a previous run or another instance's crash
      ctx.setStatus('running');
      return { relay, loop, published: 0, failedAttempts: 0, lastError: null };
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'kick':
          s.loop.kick();
          return s;
        case 'tick':
          s.loop.tick();
          return s;
        case 'stats': {
          const stats: RelayStats = {
            state: s.loop.backingOff ? 'backing-off' : s.loop.running ? 'relaying' : 'idle',
            published: s.published,
            failedAttempts: s.failedAttempts,
            consecutiveFailures: s.loop.failures,
            lastError: s.lastError,
          };
          msg.replyTo.ok(stats);
          return s;
        }
        case 'batch-done': {
          s.published += msg.result?.published ?? 0;
          s.failedAttempts += msg.result?.failed ?? 0;
          const error = msg.error ?? msg.result?.error;
          if (error) {
            s.lastError = errorMessage(error);
            const delay = s.loop.failed();
            ctx.setStatus('backing-off', `outbox not relayed (${s.lastError}); retrying in ${delay} ms`, error);
            return s;
          }
          const failuresBefore = s.loop.failures;
          // A full batch means more may wait: go on at once.
          if (s.loop.succeeded(msg.result !== undefined && msg.result.claimed >= s.relay.batchSize)) {
            ctx.log.info({ after: failuresBefore }, 'outbox relay publishing again');
            ctx.setStatus('running');
          }
          return s;
        }
      }
    },
  });
}
