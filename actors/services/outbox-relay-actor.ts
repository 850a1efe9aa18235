// The outbox relay actor: publishes unpublished outbox rows on the broker, a batch at a time, polling on the
// injected clock and at once when kicked after an accept. RabbitMQ (or PostgreSQL) away is state — backing-off,
// with the next attempt on an exponential backoff — never a crash; the rows stay in the outbox meanwhile.
// Safe with several API instances: each batch is claimed with FOR UPDATE SKIP LOCKED (src/notifications/outbox-relay.ts).
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import { backoffDelay, type BackoffPolicy } from '../../src/backoff.js';
import type { Broker } from '../../src/adapters/broker/broker.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import type { OutboxRelayMessage, RelayStats } from '../../src/contracts/notifications-messages.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import type { TimerHandle } from '../../src/clock.js';
import { OutboxRelay, type RelayBatchResult } from '../../src/notifications/outbox-relay.js';
import { errorMessage, toError } from '../../src/errors/app-error.js';
import { resources } from '../../src/resources.js';

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

type Internal = { type: 'tick' } | { type: 'batch-done'; result?: RelayBatchResult; error?: Error };
type Msg = OutboxRelayMessage | Internal;

interface State {
  readonly relay: OutboxRelay;
  running: boolean;
  /** A kick or tick came while a batch ran: run again at once. */
  again: boolean;
  backingOff: boolean;
  timer: TimerHandle | undefined;
  consecutiveFailures: number;
  published: number;
  failedAttempts: number;
  lastError: string | null;
}

export function outboxRelayActor(options: OutboxRelayOptions = {}): () => ActorBehaviour<State, Msg> {
  const pollMs = options.pollMs ?? 1_000;
  const policy: BackoffPolicy = { ...BACKOFF, ...options.backoff };
  const random = options.random ?? Math.random;

  const schedule = (s: State, ctx: ActorContext<Msg>, ms: number): void => {
    ctx.clearTimer(s.timer);
    s.timer = ctx.setTimer(() => ctx.self.tell({ type: 'tick' }), ms);
  };

  const start = (s: State, ctx: ActorContext<Msg>): void => {
    ctx.clearTimer(s.timer);
    s.timer = undefined;
    s.running = true;
    s.again = false;
    s.relay.relayBatch().then(
      (result) => ctx.self.tell({ type: 'batch-done', result }),
      (error: unknown) => ctx.self.tell({ type: 'batch-done', error: toError(error) }),
    );
  };

  return () => ({
    init(ctx) {
      const deps = options.deps
        ? options.deps(ctx)
        : {
            db: resources(ctx).db,
            broker: () => ctx.ask(ctx.ref<BrokerMessage>('broker'), 'lend', {}, 1_000),
          };
      const s: State = {
        relay: new OutboxRelay({ db: () => deps.db(), broker: () => deps.broker(), clock: ctx.clock, ...(options.batchSize ? { batchSize: options.batchSize } : {}) }),
        running: false,
        again: false,
        backingOff: false,
        timer: undefined,
        consecutiveFailures: 0,
        published: 0,
        failedAttempts: 0,
        lastError: null,
      };
      schedule(s, ctx, 0); // rows left by a previous run or another instance's crash
      ctx.setStatus('running');
      return s;
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'kick':
          // While backing off the timer decides: a kick would only hammer an absent broker.
          if (s.backingOff) return s;
          if (s.running) s.again = true;
          else start(s, ctx);
          return s;
        case 'tick':
          s.timer = undefined;
          if (s.running) s.again = true;
          else start(s, ctx);
          return s;
        case 'stats': {
          const stats: RelayStats = {
            state: s.backingOff ? 'backing-off' : s.running ? 'relaying' : 'idle',
            published: s.published,
            failedAttempts: s.failedAttempts,
            consecutiveFailures: s.consecutiveFailures,
            lastError: s.lastError,
          };
          msg.replyTo.ok(stats);
          return s;
        }
        case 'batch-done': {
          s.running = false;
          s.published += msg.result?.published ?? 0;
          s.failedAttempts += msg.result?.failed ?? 0;
          const error = msg.error ?? msg.result?.error;
          if (error) {
            s.consecutiveFailures++;
            s.lastError = errorMessage(error);
            s.backingOff = true;
            const delay = backoffDelay(policy, s.consecutiveFailures - 1, random());
            ctx.setStatus('backing-off', `outbox not relayed (${s.lastError}); retrying in ${delay} ms`, error);
            schedule(s, ctx, delay);
            return s;
          }
          if (s.backingOff || s.consecutiveFailures > 0) {
            ctx.log.info({ after: s.consecutiveFailures }, 'outbox relay publishing again');
            ctx.setStatus('running');
          }
          s.backingOff = false;
          s.consecutiveFailures = 0;
          // A full batch means more may wait: go on at once; so does a kick that came meanwhile.
          if (s.again || (msg.result && msg.result.claimed >= s.relay.batchSize)) start(s, ctx);
          else schedule(s, ctx, pollMs);
          return s;
        }
      }
    },
  });
}
