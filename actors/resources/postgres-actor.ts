// The postgres resource actor: owns the pg pool, applies migrations when told to, probes the server,
// and reports an outage as state (backing-off) with reconnect backoff — never as a crash. Load (no free connection
// within the acquire timeout, a query past its timeout) is neither: callers get DATABASE_BUSY, the actor stays
// running and counts it in its detail.
import pg from 'pg';
import type { PgHandle, PostgresMessage } from '../../src/adapters/postgres/postgres-messages.js';
import { ServiceUnavailableError, errorMessage } from '../../src/errors/app-error.js';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { isPostgresBusy, isPostgresOutage } from '../../src/adapters/postgres/pg-errors.js';
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { TimerHandle } from '../../src/clock.js';
import { backoffDelay, type BackoffPolicy } from '../../src/backoff.js';

export interface PostgresOptions {
  /** Where to connect; asked at every start so an embedded server's port can change across restarts. */
  readonly connection: () => Promise<{ url: string; migrationUrl: string }>;
  readonly poolMax: number;
  /** How long a query waits for a free connection before DATABASE_BUSY (pg-pool's acquire timeout). @defaultValue 5_000 */
  readonly acquireTimeoutMs?: number;
  /** Client-side bound on one query (no startup parameter: PgBouncer refuses those; set statement_timeout on the role). */
  readonly queryTimeoutMs: number;
  readonly migrateOnStart: boolean;
  readonly applicationName: string;
  /** Probe interval while up. @defaultValue 5_000 */
  readonly probeIntervalMs?: number;
  /** Reconnect backoff while down. */
  readonly reconnect?: Partial<BackoffPolicy>;
}

// `epoch` tells this incarnation's check results from those of the one it replaced (same name, same mailbox address).
type Internal =
  | { type: 'check' }
  | { type: 'checked'; epoch: symbol; ok: true }
  | { type: 'checked'; epoch: symbol; ok: false; error: unknown }
  | { type: 'busy'; epoch: symbol };
type Msg = PostgresMessage | Internal;
type Lend = Extract<PostgresMessage, { type: 'lend' | 'lend-registry' }>;

interface State {
  readonly epoch: symbol;
  readonly pool: pg.Pool;
  readonly handle: PgHandle;
  /** One connection of its own for the node registry's heartbeat (undefined: a pool of one, shared). */
  readonly registryPool: pg.Pool | undefined;
  readonly registryHandle: PgHandle;
  readonly migrationUrl: string;
  up: boolean;
  /**
   * Lends asked while this incarnation's first check (connect, migrations) runs: held and answered when it settles,
   * so a part that needs the database at its own start (a consumer reading its queue's pause) waits for it instead
   * of failing into a retry timer. After the first check an outage answers at once, as before.
   */
  firstCheck: Lend[] | undefined;
  checking: boolean;
  migrated: boolean;
  attempt: number;
  lastError: string | undefined;
  nextCheck: TimerHandle | undefined;
  /** Load seen since this incarnation started: queries refused with DATABASE_BUSY, probes that timed out. */
  busy: { queries: number; probes: number; last: string | undefined };
  /**
   * Queries refused since the actor last looked, counted by the handle's callback outside the mailbox: under
   * saturation every query is refused, and one 'busy' message at a time (not one per query) reports them.
   */
  readonly refused: { queries: number; last: unknown; told: boolean };
}

const RECONNECT: BackoffPolicy = { minMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };

export function postgresActor(options: PostgresOptions): () => ActorBehaviour<State, Msg> {
  const reconnect = { ...RECONNECT, ...options.reconnect };
  const probeMs = options.probeIntervalMs ?? 5_000;

  const check = (s: State, ctx: ActorContext<Msg>): void => {
    if (s.checking) return;
    s.checking = true;
    const run = async () => {
      await s.pool.query('SELECT 1');
      if (!s.migrated && options.migrateOnStart) {
        await migrate({ databaseUrl: s.migrationUrl, log: ctx.log });
        s.migrated = true;
      }
    };
    run().then(
      () => ctx.self.tell({ type: 'checked', epoch: s.epoch, ok: true }),
      (error: unknown) => ctx.self.tell({ type: 'checked', epoch: s.epoch, ok: false, error }),
    );
  };

  /** Running, with the load counted so far as the detail (on-call sees it in the tree and in readiness). */
  const running = (s: State, ctx: ActorContext<Msg>, error?: unknown): void => {
    const { queries, probes, last } = s.busy;
    const detail =
      queries + probes > 0
        ? `busy: ${queries} ${queries === 1 ? 'query' : 'queries'} refused, ${probes} ${probes === 1 ? 'probe' : 'probes'} timed out (pool of ${options.poolMax} saturated or queries past their timeout); last: ${last}`
        : undefined;
    ctx.setStatus('running', detail, error);
  };

  const scheduleCheck = (s: State, ctx: ActorContext<Msg>, ms: number): void => {
    ctx.clearTimer(s.nextCheck);
    s.nextCheck = ctx.setTimer(() => ctx.self.tell({ type: 'check' }), ms);
  };

  return () => ({
    async init(ctx) {
      const { url, migrationUrl } = await options.connection();
      const newPool = (max: number): pg.Pool => {
        const p = new pg.Pool({
          connectionString: url,
          max,
          // pg-pool's acquire timeout as well as a new connection's: past it a query is refused as DATABASE_BUSY.
          connectionTimeoutMillis: options.acquireTimeoutMs ?? 5_000,
          idleTimeoutMillis: 30_000,
          query_timeout: options.queryTimeoutMs,
          application_name: options.applicationName,
          keepAlive: true,
        });
        // An idle client losing its server is an outage signal, never an uncaught error.
        p.on('error', (err) => {
          ctx.log.warn({ err }, 'idle PostgreSQL client failed');
          ctx.self.tell({ type: 'check' });
        });
        return p;
      };
      const pool = newPool(options.poolMax);
      // The embedded server (a pool of one) serves one process: nobody else judges its liveness.
      const registryPool = options.poolMax > 1 ? newPool(1) : undefined;
      const epoch = Symbol('postgres incarnation');
      const refused: State['refused'] = { queries: 0, last: undefined, told: false };
      const handle = poolHandle(pool, (error) => {
        refused.queries++;
        refused.last = error;
        if (refused.told) return;
        refused.told = true;
        ctx.self.tell({ type: 'busy', epoch });
      });
      const state: State = {
        epoch,
        pool,
        handle,
        registryPool,
        registryHandle: registryPool ? poolHandle(registryPool) : handle,
        migrationUrl,
        up: false,
        firstCheck: [],
        checking: false,
        migrated: false,
        attempt: 0,
        lastError: undefined,
        nextCheck: undefined,
        busy: { queries: 0, probes: 0, last: undefined },
        refused,
      };
      ctx.setStatus('backing-off', 'connecting to PostgreSQL');
      check(state, ctx);
      return state;
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'lend':
        case 'lend-registry':
          if (s.firstCheck) s.firstCheck.push(msg);
          else answerLend(s, msg);
          return s;
        case 'check':
          check(s, ctx);
          return s;
        case 'busy':
          if (msg.epoch !== s.epoch) return s;
          s.refused.told = false;
          s.busy.queries += s.refused.queries;
          s.refused.queries = 0;
          s.busy.last = errorMessage(s.refused.last);
          if (s.up) running(s, ctx, s.refused.last);
          return s;
        case 'checked': {
          if (msg.epoch !== s.epoch) return s; // a result of the incarnation this one replaced
          s.checking = false;
          const held = s.firstCheck ?? [];
          s.firstCheck = undefined;
          try {
            return checked(s, msg, ctx);
          } finally {
            for (const lend of held) answerLend(s, lend);
          }
        }
      }
    },

    async cleanup(s) {
      await Promise.all([s.pool.end(), s.registryPool?.end()]);
    },
  });

  function checked(s: State, msg: Extract<Internal, { type: 'checked' }>, ctx: ActorContext<Msg>): State {
    if (msg.ok) {
      if (!s.up) ctx.log.info('PostgreSQL is up');
      s.up = true;
      s.attempt = 0;
      s.lastError = undefined;
      running(s, ctx);
      scheduleCheck(s, ctx, probeMs);
      return s;
    }
    // The probe waited its turn like any query and timed out: the server answers, it is only saturated.
    if (s.up && isPostgresBusy(msg.error)) {
      s.busy.probes++;
      s.busy.last = errorMessage(msg.error);
      ctx.log.warn({ err: msg.error }, 'PostgreSQL busy: the probe timed out');
      running(s, ctx, msg.error);
      scheduleCheck(s, ctx, probeMs);
      return s;
    }
    // A failing migration or SQL on a reachable server is a bug: crash, and let supervision decide.
    if (!isPostgresOutage(msg.error) && !isPostgresBusy(msg.error)) throw msg.error;
    s.up = false;
    s.lastError = errorMessage(msg.error);
    const delay = backoffDelay(reconnect, s.attempt++, Math.random());
    ctx.log.warn({ err: msg.error, retryInMs: delay }, 'PostgreSQL unreachable');
    ctx.setStatus('backing-off', `PostgreSQL unreachable (${s.lastError}); retrying in ${delay} ms`, msg.error);
    scheduleCheck(s, ctx, delay);
    return s;
  }
}

function answerLend(s: State, msg: Lend): void {
  if (s.up) msg.replyTo.ok(msg.type === 'lend' ? s.handle : s.registryHandle);
  else msg.replyTo.fail(new ServiceUnavailableError('postgres', `PostgreSQL is unavailable${s.lastError ? `: ${s.lastError}` : ''}`, 1_000, 'DATABASE_UNAVAILABLE'));
}
