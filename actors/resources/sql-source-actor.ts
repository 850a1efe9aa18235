// A SQL source actor (one per utility database): its mssql pool and circuit, or the queries' PostgreSQL twins without a URL.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { BackoffPolicy } from '../../src/backoff.js';
import type { TimerHandle } from '../../src/clock.js';
import type { Reply } from '../../src/contracts/reply.js';
import { AppError, errorCode, errorMessage } from '../../src/errors/app-error.js';
import { SourceCircuit, type CircuitState } from '../../src/adapters/mssql/source-circuit.js';
import {
  SourceQueryError,
  SourceTimeoutError,
  SourceUnavailableError,
  isRetriedOnce,
  isSourceOutage,
} from '../../src/adapters/mssql/source-errors.js';
import type { SourceMessage, SourceQuery, SourceRow } from '../../src/adapters/mssql/source-messages.js';
import type { SourcePool, SourcePoolFactory } from '../../src/adapters/mssql/source-pool.js';
import { positionalTwin } from '../../src/adapters/mssql/twin-params.js';
import { resources } from '../../src/resources.js';

export interface SqlSourceOptions {
  /** The source's name (`sic`, `histh2mc`, `bi_ods` …), in errors and logs. */
  readonly source: string;
  /** `mssql`: a pool from this factory (the real one, or a test's fake); `twin`: the twins on the product's PostgreSQL. */
  readonly mode: { readonly kind: 'mssql'; readonly pool: SourcePoolFactory } | { readonly kind: 'twin' };
  /** Client-side deadline on every query. */
  readonly queryTimeoutMs: number;
  /** Consecutive failures that open the circuit. @defaultValue 3 */
  readonly failureThreshold?: number;
  /** Delays between connection attempts and probes. @defaultValue min 500 ms, max 30 s, factor 2, jitter 0.2 */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Randomness for the jitter. @defaultValue Math.random */
  readonly random?: () => number;
  /** Hears the circuit state each time it is reported (for /metrics); a twin is always closed. */
  readonly onCircuit?: (state: CircuitState) => void;
}

type Outcome = { ok: true; rows: SourceRow[] } | { ok: false; error: unknown };
// `epoch` tells this incarnation's results from those of the one it replaced (same name, same mailbox).
type Internal =
  | { type: 'attempt' }
  | { type: 'attempted'; epoch: symbol; pool: SourcePool | undefined; recreated: boolean; error: unknown }
  | { type: 'ran'; epoch: symbol; pool: SourcePool; query: SourceQuery; replyTo: Reply<readonly SourceRow[]>; retried: boolean; outcome: Outcome }
  | { type: 'pool-error'; epoch: symbol; error: unknown };
type Msg = SourceMessage | Internal;

interface State {
  readonly epoch: symbol;
  readonly circuit: SourceCircuit;
  pool: SourcePool | undefined;
  connected: boolean;
  /** The pool failed a connect or a probe: the next attempt closes it and makes a new one. */
  suspect: boolean;
  attempting: boolean;
  nextAttempt: TimerHandle | undefined;
  lastError: string | undefined;
  recreated: number;
  poolErrors: number;
}

/** The twin keeps nothing between queries: PostgreSQL is the postgres actor's. */
interface TwinState {
  readonly twin: true;
}

const BACKOFF: BackoffPolicy = { minMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };
const PROBE: SourceQuery = { name: 'probe', tsql: 'SELECT 1 AS ok', twin: 'SELECT 1 AS ok', params: {} };

/**
 * The handler never awaits: a query is started on the pool and answered when it settles (a 'ran' message back).
 * The circuit is the actor's outage state: closed is `running`; connecting, open and half-open are `backing-off`,
 * and then callers get SOURCE_UNAVAILABLE at once, without the network. Only timers start connects and probes.
 */
export function sqlSourceActor(options: SqlSourceOptions): () => ActorBehaviour<State | TwinState, Msg> {
  const { source } = options;
  const random = options.random ?? Math.random;
  return () => (options.mode.kind === 'twin' ? twinBehaviour() : mssqlBehaviour(options, options.mode.pool, random));

  function mssqlBehaviour(o: SqlSourceOptions, factory: SourcePoolFactory, rnd: () => number): ActorBehaviour<State | TwinState, Msg> {
    const describe = (s: State): string => {
      const c = s.circuit;
      const moves = c.transitions.map((t) => `${t.from}→${t.to} at ${new Date(t.at).toISOString()} (${t.why})`).join(', ');
      return [
        `circuit ${c.state}`,
        `${c.failures} consecutive failures (${c.totalFailures} in all, opened ${c.opens}×, pool recreated ${s.recreated}×, pool errors ${s.poolErrors})`,
        ...(s.lastError ? [`last: ${s.lastError}`] : []),
        ...(moves ? [`transitions: ${moves}`] : []),
      ].join('; ');
    };

    const report = (s: State, ctx: ActorContext<Msg>, error?: unknown): void => {
      o.onCircuit?.(s.circuit.state);
      if (s.connected && s.circuit.state === 'closed') ctx.setStatus('running', s.circuit.totalFailures + s.poolErrors > 0 ? describe(s) : undefined);
      else ctx.setStatus('backing-off', `${source}: ${describe(s)}; next attempt in ${Math.max(0, s.circuit.retryAt - ctx.clock.now())} ms`, error);
    };

    const schedule = (s: State, ctx: ActorContext<Msg>, delayMs: number): void => {
      ctx.clearTimer(s.nextAttempt);
      s.nextAttempt = ctx.setTimer(() => ctx.self.tell({ type: 'attempt' }), delayMs);
    };

    const fail = (s: State, ctx: ActorContext<Msg>, error: unknown, why: string): void => {
      s.lastError = errorMessage(error);
      const { delayMs, opened } = s.circuit.failure(ctx.clock.now(), rnd(), why);
      if (opened) ctx.log.warn({ source, err: error, failures: s.circuit.failures, probeInMs: delayMs }, 'source circuit opened');
      // Connected below the threshold, the pool may recover by itself; otherwise the next attempt is on the timer.
      if (!s.connected || s.circuit.state !== 'closed') schedule(s, ctx, delayMs);
      report(s, ctx, error);
    };

    const attempt = (s: State, ctx: ActorContext<Msg>): void => {
      // Serving already (a timer of an earlier failure): nothing to probe.
      if (s.attempting || (s.connected && s.circuit.state === 'closed')) return;
      s.attempting = true;
      s.circuit.probing(ctx.clock.now());
      const { epoch } = s;
      const current = s.pool;
      const reuse = current !== undefined && s.connected && !s.suspect;
      const run = async (): Promise<{ pool: SourcePool; recreated: boolean }> => {
        if (reuse) {
          await current.run(PROBE, o.queryTimeoutMs);
          return { pool: current, recreated: false };
        }
        // A pool that failed is not trusted again (node-mssql #701/#1477: some never recover): close it, make a new one.
        await current?.close().catch(() => undefined);
        const next = factory({ clock: ctx.clock, onError: (error) => ctx.self.tell({ type: 'pool-error', epoch, error }) });
        try {
          await next.connect();
        } catch (error) {
          throw Object.assign(new Error('connect failed'), { pool: next, cause: error });
        }
        // Stopped while connecting: nobody will own this pool, and its sockets would hold the process open.
        if (ctx.signal.aborted) {
          await next.close().catch(() => undefined);
          throw Object.assign(new Error('source actor stopped while connecting'), { pool: next });
        }
        return { pool: next, recreated: current !== undefined };
      };
      run().then(
        ({ pool, recreated }) => ctx.self.tell({ type: 'attempted', epoch, pool, recreated, error: undefined }),
        (error: unknown) => {
          const failed = (error as { pool?: SourcePool }).pool;
          ctx.self.tell({ type: 'attempted', epoch, pool: failed ?? current, recreated: false, error: failed ? ((error as Error).cause ?? error) : error });
        },
      );
    };

    const start = (s: State, ctx: ActorContext<Msg>, pool: SourcePool, query: SourceQuery, replyTo: Reply<readonly SourceRow[]>, retried: boolean): void => {
      const { epoch } = s;
      pool.run(query, o.queryTimeoutMs).then(
        (rows) => ctx.self.tell({ type: 'ran', epoch, pool, query, replyTo, retried, outcome: { ok: true, rows } }),
        (error: unknown) => ctx.self.tell({ type: 'ran', epoch, pool, query, replyTo, retried, outcome: { ok: false, error } }),
      );
    };

    return {
      init(ctx) {
        const state: State = {
          epoch: Symbol(`source ${source} incarnation`),
          circuit: new SourceCircuit({ failureThreshold: Math.max(1, o.failureThreshold ?? 3), backoff: { ...BACKOFF, ...o.backoff } }),
          pool: undefined,
          connected: false,
          suspect: false,
          attempting: false,
          nextAttempt: undefined,
          lastError: undefined,
          recreated: 0,
          poolErrors: 0,
        };
        ctx.setStatus('backing-off', `${source}: connecting`);
        ctx.self.tell({ type: 'attempt' });
        return state;
      },

      handle(s, msg, ctx) {
        if (!('circuit' in s)) return s;
        switch (msg.type) {
          case 'query': {
            const c = s.circuit;
            if (!s.connected || c.state !== 'closed' || !s.pool) {
              const reason = c.state === 'open' ? 'circuit-open' : c.state === 'half-open' ? 'half-open' : 'connecting';
              msg.replyTo.fail(new SourceUnavailableError(source, c.retryAfterMs(ctx.clock.now()), reason));
              return s;
            }
            start(s, ctx, s.pool, msg.query, msg.replyTo, false);
            return s;
          }

          case 'ran': {
            const { outcome, query, replyTo } = msg;
            const current = msg.epoch === s.epoch && msg.pool === s.pool;
            if (outcome.ok) {
              if (current && s.circuit.failures > 0 && s.circuit.state === 'closed') {
                s.circuit.success(ctx.clock.now());
                report(s, ctx);
              }
              replyTo.ok(outcome.rows);
              return s;
            }
            const { error } = outcome;
            if (!msg.retried && isRetriedOnce(error) && current && s.connected && s.circuit.state === 'closed') {
              ctx.log.info({ source, query: query.name, err: error }, 'source query retried once (deadlock or transient login)');
              start(s, ctx, msg.pool, query, replyTo, true);
              return s;
            }
            if (!isSourceOutage(error)) {
              const number = (error as { number?: unknown }).number;
              replyTo.fail(new SourceQueryError(source, query.name, typeof number === 'number' ? number : undefined, { cause: error }));
              return s;
            }
            if (current && s.circuit.state === 'closed') fail(s, ctx, error, `query ${query.name}: ${errorMessage(error)}`);
            replyTo.fail(
              error instanceof SourceTimeoutError ? error : new SourceUnavailableError(source, s.circuit.retryAfterMs(ctx.clock.now()), 'connection-lost', { cause: error }),
            );
            return s;
          }

          case 'attempt':
            attempt(s, ctx);
            return s;

          case 'attempted': {
            if (msg.epoch !== s.epoch) {
              if (msg.pool !== s.pool) void msg.pool?.close().catch(() => undefined);
              return s;
            }
            s.attempting = false;
            s.pool = msg.pool;
            if (msg.error === undefined) {
              if (msg.recreated) s.recreated++;
              if (!s.connected || s.circuit.state !== 'closed') ctx.log.info({ source, recreated: msg.recreated }, 'source answers; circuit closed');
              s.connected = true;
              s.suspect = false;
              s.lastError = undefined;
              ctx.clearTimer(s.nextAttempt);
              s.circuit.success(ctx.clock.now());
              report(s, ctx);
              return s;
            }
            // The first probe after an outage reuses the pool (mssql's often recovers); one that failed is replaced next time.
            if (errorCode(msg.error) === 'SOURCE_NOT_ENCRYPTED') ctx.log.error({ source, err: msg.error }, 'source refused: the server did not negotiate encryption');
            s.connected = false;
            s.suspect = true;
            fail(s, ctx, msg.error, `connect or probe: ${errorMessage(msg.error)}`);
            return s;
          }

          case 'pool-error':
            if (msg.epoch !== s.epoch) return s;
            // Seen, counted and shown; the failing queries themselves count toward the circuit.
            s.poolErrors++;
            ctx.log.warn({ source, err: msg.error }, 'source pool error');
            report(s, ctx);
            return s;
        }
      },

      async cleanup(s) {
        if ('circuit' in s) await s.pool?.close().catch(() => undefined);
      },
    };
  }

  function twinBehaviour(): ActorBehaviour<State | TwinState, Msg> {
    return {
      init(ctx) {
        options.onCircuit?.('closed');
        ctx.setStatus('running', `${source}: PostgreSQL twin (no SQL_${source.toUpperCase()}_URL)`);
        return { twin: true };
      },
      handle(s, msg, ctx) {
        if (msg.type !== 'query') return s;
        const { query, replyTo } = msg;
        const run = async () => {
          const { text, values } = positionalTwin(query.twin, query.params);
          const db = await resources(ctx).db();
          return (await db.query(text, values)).rows as SourceRow[];
        };
        run().then(
          (rows) => replyTo.ok(rows),
          (error: unknown) => replyTo.fail(error instanceof AppError ? error : new SourceQueryError(source, query.name, undefined, { cause: error })),
        );
        return s;
      },
    };
  }
}
