// The sic-registrar actor: runs src/meters/sic-registrar.ts on a poll of the injected clock and at once when kicked.
// SIC away is recorded on each row (its own backoff) and shown as backing-off; PostgreSQL away backs the whole actor
// off. Neither is a crash. Safe with several API instances: rows are claimed with FOR UPDATE SKIP LOCKED and a lease.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { BackoffPolicy } from '../../src/backoff.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { errorMessage, toError } from '../../src/errors/app-error.js';
import {
  type SicDrainResult,
  type SicRegistrarMessage,
  type SicRegistrarStats,
  type SicRegistration,
  SicRegistrar,
  registerThroughSic,
} from '../../src/meters/index.js';
import { resources } from '../../src/resources.js';
import { DrainLoop, type DrainLoopMessage } from './drain-loop.js';

export interface SicRegistrarOptions {
  /** Delay between polls (SIC_REGISTRATION_POLL_MS). */
  readonly pollMs: number;
  /** The sources' query deadline (SQL_QUERY_TIMEOUT_MS): bounds the ask of source-sic. */
  readonly queryTimeoutMs: number;
  /** Rows per batch. @defaultValue 20 */
  readonly batchSize?: number;
  /** How long a claimed row is kept from the other registrars. @defaultValue 60_000 */
  readonly leaseMs?: number;
  /** Delays between a failed row's attempts. @defaultValue SIC_BACKOFF (1 s doubling, at most 5 min) */
  readonly rowBackoff?: Partial<BackoffPolicy>;
  /** Delays after PostgreSQL failed a batch. @defaultValue { minMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 } */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Where the database and SIC are reached. @defaultValue the `postgres` actor and the `source-sic` actor */
  readonly deps?: (ctx: ActorContext<Msg>) => { db(): Promise<PgHandle>; register(r: SicRegistration): Promise<void> };
  /** @defaultValue Math.random */
  readonly random?: () => number;
}

const BACKOFF: BackoffPolicy = { minMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };

type Msg = SicRegistrarMessage | DrainLoopMessage<SicDrainResult>;

interface State {
  readonly registrar: SicRegistrar;
  /** Its failures are PostgreSQL's: SIC's are recorded on each row, never a failed batch. */
  readonly loop: DrainLoop<SicDrainResult>;
  /** SIC failed every registration of the last batch that asked it anything. */
  sicRefusing: boolean;
  registered: number;
  failures: number;
  lastError: string | null;
}

export function sicRegistrarActor(options: SicRegistrarOptions): () => ActorBehaviour<State, Msg> {
  const backoff: BackoffPolicy = { ...BACKOFF, ...options.backoff };
  const random = options.random ?? Math.random;

  const finished = (s: State, msg: Extract<Msg, { type: 'batch-done' }>, ctx: ActorContext<Msg>): void => {
    if (msg.error) {
      s.lastError = errorMessage(msg.error);
      const delay = s.loop.failed();
      ctx.setStatus('backing-off', `SIC registrations not drained (${s.lastError}); retrying in ${delay} ms`, msg.error);
      return;
    }
    const r = msg.result!;
    s.registered += r.registered;
    s.failures += r.failed;
    if (r.lastError) s.lastError = r.lastError;
    // Only SIC's answers move sicRefusing: a batch with nothing due says nothing about SIC.
    if (r.failed > 0 && r.registered === 0) s.sicRefusing = true;
    else if (r.registered > 0) s.sicRefusing = false;
    // A full batch that SIC took means more may be due: go on at once. After a refusal the next poll is soon enough.
    s.loop.succeeded(r.claimed >= s.registrar.batchSize && r.failed === 0);
    if (s.sicRefusing) ctx.setStatus('backing-off', `SIC refuses registrations (${s.lastError}); each row is retried with backoff`);
    else ctx.setStatus('running');
  };

  return () => ({
    init(ctx) {
      const deps = options.deps ? options.deps(ctx) : { db: resources(ctx).db, register: registerThroughSic(ctx, options.queryTimeoutMs) };
      const registrar = new SicRegistrar({
        db: () => deps.db(),
        register: (r) => deps.register(r),
        clock: ctx.clock,
        random,
        ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
        ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
        ...(options.rowBackoff ? { backoff: options.rowBackoff } : {}),
      });
      const loop = new DrainLoop<SicDrainResult>(ctx, (m) => ctx.self.tell(m), { batch: () => registrar.drainBatch(), pollMs: options.pollMs, backoff, random });
      loop.schedule(0); // rows left by a previous run, or queued by an instance that stopped
      ctx.setStatus('running');
      return { registrar, loop, sicRefusing: false, registered: 0, failures: 0, lastError: null };
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'kick':
          // While PostgreSQL is away the timer decides (the loop ignores kicks while backing off).
          s.loop.kick();
          return s;
        case 'tick':
          s.loop.tick();
          return s;
        case 'stats': {
          const counters = { registered: s.registered, failures: s.failures, lastError: s.lastError };
          const state: SicRegistrarStats['state'] = s.loop.backingOff ? 'backing-off' : s.loop.running ? 'draining' : 'idle';
          // The pending count is the outbox's, read when asked; the reply waits for it, the actor does not.
          s.registrar.pending().then(
            (pending) => msg.replyTo.ok({ state, pending, ...counters }),
            (error: unknown) => msg.replyTo.fail(toError(error)),
          );
          return s;
        }
        case 'batch-done':
          finished(s, msg, ctx);
          return s;
      }
    },
  });
}
