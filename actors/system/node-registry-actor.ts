// The node-registry actor (every role): registers this process's incarnation in PostgreSQL at start and renews its
// heartbeat every NODE_HEARTBEAT_MS (src/cluster/node-registry.ts).
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import { heartbeat, registerNode, stopNode, type NodeIdentity } from '../../src/cluster/node-registry.js';
import type { PgHandle, PostgresMessage } from '../../src/adapters/postgres/postgres-messages.js';
import { errorMessage } from '../../src/errors/app-error.js';

export interface NodeRegistryOptions {
  readonly identity: NodeIdentity;
  /** Time between heartbeats (NODE_HEARTBEAT_MS). */
  readonly heartbeatMs: number;
  /** How long a heartbeat keeps this node alive for the others (NODE_STALE_AFTER_MS). */
  readonly staleAfterMs: number;
  /** True once the process is stopping (the stop mark is written then, not when this actor alone restarts). */
  readonly shuttingDown: () => boolean;
  /** Bound on the stop mark at shutdown. @defaultValue 2_000 */
  readonly stopTimeoutMs?: number;
}

type Msg =
  | { type: 'beat'; epoch: symbol }
  | { type: 'beaten'; epoch: symbol; registered: boolean; twins: number }
  | { type: 'failed'; epoch: symbol; error: unknown };

interface State {
  /** This incarnation of the actor: results of a previous one's beat are ignored (one chain of beats at a time). */
  readonly epoch: symbol;
  /** Registered by this incarnation of the actor (a restart registers again: cheap, and repairs a purged row). */
  registered: boolean;
  /** The beat in flight, awaited before the stop mark so that it cannot land after it. */
  beating: Promise<unknown> | undefined;
  /** The next beat: on the real clock, not the injected one (liveness is judged against the database's clock). */
  timer: ReturnType<typeof setTimeout> | undefined;
  lastError: string | undefined;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);

/**
 * Beats on a connection of its own (the postgres actor's 'lend-registry'), so work saturating the pool never delays
 * the beat that tells the others this node is alive. On a graceful stop of the process it marks the incarnation
 * stopped, so its batch claims are taken over at once instead of after NODE_STALE_AFTER_MS; a restart of this actor
 * alone marks nothing (the process is still alive). It sits right after `resources`, so it stops after the consumers
 * and the FCM pool have finished (and recorded) what they held. PostgreSQL away is state (backing-off: the others
 * see this node as gone once its last heartbeat expires), never a crash.
 */
export function nodeRegistryActor(options: NodeRegistryOptions): () => ActorBehaviour<State, Msg> {
  const { identity, heartbeatMs, staleAfterMs } = options;
  const db = (ctx: ActorContext<Msg>, deadlineMs = 1_000): Promise<PgHandle> =>
    ctx.ask(ctx.ref<PostgresMessage>('postgres'), 'lend-registry', {}, deadlineMs);
  return () => ({
    init(ctx) {
      const epoch = Symbol('node-registry incarnation');
      ctx.self.tell({ type: 'beat', epoch });
      ctx.setStatus('backing-off', `registering node ${identity.nodeId}`);
      return { epoch, registered: false, beating: undefined, timer: undefined, lastError: undefined };
    },

    handle(s, msg, ctx) {
      if (msg.epoch !== s.epoch) return s;
      const next = (): void => {
        clearTimeout(s.timer);
        s.timer = setTimeout(() => ctx.self.tell({ type: 'beat', epoch: s.epoch }), heartbeatMs);
        s.timer.unref();
      };
      switch (msg.type) {
        case 'beat': {
          const registered = s.registered;
          // Outside the mailbox, bounded by the heartbeat interval; the next beat is scheduled when this one is
          // answered, so beats never overlap.
          const beat = withTimeout(
            (async () => {
              const handle = await db(ctx);
              if (registered && (await heartbeat(handle, identity, staleAfterMs))) return { registered: true, twins: 0 };
              // First beat (or our row was purged while we were cut off): register, and see who shares our NODE_ID.
              return { registered: false, twins: await registerNode(handle, identity, staleAfterMs) };
            })(),
            Math.max(heartbeatMs, staleAfterMs - heartbeatMs),
          );
          s.beating = beat.catch(() => undefined);
          beat.then(
            ({ registered: was, twins }) => ctx.self.tell({ type: 'beaten', epoch: s.epoch, registered: was, twins }),
            (error: unknown) => ctx.self.tell({ type: 'failed', epoch: s.epoch, error }),
          );
          return s;
        }
        case 'beaten':
          if (!msg.registered) {
            ctx.log.info({ nodeId: identity.nodeId, incarnation: identity.incarnation }, s.registered ? 'node registered again (its row was gone)' : 'node registered');
            if (msg.twins > 0) {
              ctx.log.warn(
                { nodeId: identity.nodeId, others: msg.twins },
                `another process with NODE_ID ${identity.nodeId} is alive (or died less than NODE_STALE_AFTER_MS ago): give each process its own`,
              );
            }
          }
          s.registered = true;
          s.beating = undefined;
          s.lastError = undefined;
          ctx.setStatus('running', undefined);
          next();
          return s;
        case 'failed':
          s.beating = undefined;
          s.lastError = errorMessage(msg.error);
          ctx.log.warn({ err: msg.error }, 'node heartbeat not written');
          ctx.setStatus(
            'backing-off',
            `heartbeat not written (${s.lastError}); past ${staleAfterMs} ms without one the other nodes take over this node's batch claims`,
            msg.error,
          );
          next();
          return s;
      }
    },

    async cleanup(s, ctx) {
      clearTimeout(s.timer);
      if (!options.shuttingDown()) return; // a restart of this actor: the process lives on, and so do its claims
      const timeoutMs = options.stopTimeoutMs ?? 2_000;
      try {
        // A first registration still in flight would otherwise land after the mark and look alive until it expires.
        await withTimeout(Promise.resolve(s.beating), timeoutMs);
        await withTimeout(
          db(ctx, timeoutMs).then((handle) => stopNode(handle, identity)),
          timeoutMs,
        );
      } catch (err) {
        // Not fatal: the heartbeat simply expires and the others take over after NODE_STALE_AFTER_MS.
        ctx.log.warn({ err }, 'node not marked stopped in the registry');
      }
    },
  });
}
