// The job reaper actor (worker): every interval, one pass of src/dispatch/job-reaper.ts outside the mailbox — jobs
// with no progress for the stall time are resumed or settled — and about once an hour the purge of what finished
// work leaves behind (src/dispatch/purge.ts). PostgreSQL or RabbitMQ away is state (backing-off until the next
// pass), never a crash. What it did so far is its detail, for on-call.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import { reapStalledJobs, type JobReaperDeps, type ReapResult } from '../../src/dispatch/job-reaper.js';
import { purgeFinished, type PurgeResult } from '../../src/dispatch/purge.js';
import { errorMessage } from '../../src/errors/app-error.js';
import { resources } from '../../src/resources.js';

export interface JobReaperOptions {
  /** No progress for this long and a job is resumed or settled (DISPATCH_STALL_MS). */
  readonly stallMs: number;
  /** Time between passes (DISPATCH_REAPER_INTERVAL_MS). */
  readonly intervalMs: number;
  /** Rows of jobs finished longer ago than this are purged (DISPATCH_PURGE_AFTER_DAYS). */
  readonly purgeAfterDays: number;
}

/** The purge runs with the first pass, then with the first pass an hour or more after the last purge. */
const PURGE_EVERY_MS = 3_600_000;

type Msg = { type: 'tick' } | { type: 'reaped'; result: ReapResult; purged: PurgeResult | undefined } | { type: 'failed'; error: unknown };

interface State {
  /** How a pass reaches the database, the broker and the clock (built once). */
  readonly deps: JobReaperDeps;
  /** When the last purge finished (clock ms; undefined: none yet). */
  purgedAt: number | undefined;
  /** Totals since this incarnation started. */
  totals: ReapResult;
}

export function jobReaperActor(options: JobReaperOptions): () => ActorBehaviour<State, Msg> {
  const schedule = (ctx: ActorContext<Msg>): void => {
    ctx.setTimer(() => ctx.self.tell({ type: 'tick' }), options.intervalMs);
  };
  const acted = (r: ReapResult): number => r.resumed + r.completed + r.abandoned + r.settled;
  const detail = (r: ReapResult): string | undefined =>
    acted(r) > 0
      ? `stalled jobs: ${r.resumed} fan-outs resumed, ${r.completed} with owed retries published, ${r.abandoned} failed (not resumable), ${r.settled} settled with ${r.lostTokens} lost token(s) counted as failed`
      : undefined;

  return () => ({
    init(ctx) {
      const deps: JobReaperDeps = { db: resources(ctx).db, broker: () => ctx.ask(ctx.ref<BrokerMessage>('broker'), 'lend', {}, 1_000), clock: ctx.clock };
      const s: State = { deps, purgedAt: undefined, totals: { resumed: 0, completed: 0, abandoned: 0, settled: 0, lostTokens: 0 } };
      schedule(ctx);
      ctx.setStatus('running');
      return s;
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'tick': {
          const { deps } = s;
          const purgeDue = s.purgedAt === undefined || ctx.clock.now() - s.purgedAt >= PURGE_EVERY_MS;
          const pass = async () => {
            const result = await reapStalledJobs(deps, options.stallMs);
            const purged = purgeDue ? await purgeFinished(await deps.db(), new Date(ctx.clock.now()), options.purgeAfterDays) : undefined;
            return { result, purged };
          };
          pass().then(
            ({ result, purged }) => ctx.self.tell({ type: 'reaped', result, purged }),
            (error: unknown) => ctx.self.tell({ type: 'failed', error }),
          );
          return s;
        }
        case 'reaped': {
          const r = msg.result;
          if (acted(r) > 0) ctx.log.warn(r, 'stalled notification jobs resumed or settled');
          if (msg.purged) {
            s.purgedAt = ctx.clock.now();
            ctx.log.info(msg.purged, 'rows of finished jobs and past SMS budget days purged');
          }
          s.totals = {
            resumed: s.totals.resumed + r.resumed,
            completed: s.totals.completed + r.completed,
            abandoned: s.totals.abandoned + r.abandoned,
            settled: s.totals.settled + r.settled,
            lostTokens: s.totals.lostTokens + r.lostTokens,
          };
          ctx.setStatus('running', detail(s.totals));
          schedule(ctx);
          return s;
        }
        case 'failed':
          // The database or the broker away, or a pass that failed: the next pass tries again.
          ctx.log.warn({ err: msg.error }, 'job reaper pass failed');
          ctx.setStatus('backing-off', `job reaper pass failed (${errorMessage(msg.error)}); next pass in ${options.intervalMs} ms`, msg.error);
          schedule(ctx);
          return s;
      }
    },
  });
}
