// The node-registry actor (every role): registers this process's incarnation in PostgreSQL at start and renews its
// heartbeat every NODE_HEARTBEAT_MS (src/cluster/node-registry.ts); marks it stopped on a graceful stop, so its
// batch claims are taken over at once instead of after NODE_STALE_AFTER_MS. It sits right after `resources`, so it
// stops after the consumers and the FCM pool have finished (and recorded) what they held. PostgreSQL away is state
// (backing-off: other nodes will see this one as gone once its last heartbeat expires), never a crash.
import type { ActorBehaviour, ActorContext } from '../src/actor-behaviour.js';
import { heartbeat, registerNode, stopNode, type NodeIdentity } from '../src/cluster/node-registry.js';
import { errorMessage } from '../src/errors/app-error.js';
import { resources } from '../src/resources.js';

export interface NodeRegistryOptions {
  readonly identity: NodeIdentity;
  /** Time between heartbeats (NODE_HEARTBEAT_MS). */
  readonly heartbeatMs: number;
  /** How long a heartbeat keeps this node alive for the others (NODE_STALE_AFTER_MS). */
  readonly staleAfterMs: number;
  /** Bound on the stop mark at shutdown. @defaultValue 2_000 */
  readonly stopTimeoutMs?: number;
}

type Msg = { type: 'beat' } | { type: 'beaten'; registered: boolean; twins: number } | { type: 'failed'; error: unknown };

interface State {
  /** Registered by this incarnation of the actor (a restart registers again: cheap, and repairs a purged row). */
  registered: boolean;
  /** Heartbeats written in a row without failure (for the detail). */
  beats: number;
  lastError: string | undefined;
}

export function nodeRegistryActor(options: NodeRegistryOptions): () => ActorBehaviour<State, Msg> {
  const { identity, heartbeatMs, staleAfterMs } = options;
  const next = (ctx: ActorContext<Msg>): void => {
    ctx.setTimer(() => ctx.self.tell({ type: 'beat' }), heartbeatMs);
  };
  return () => ({
    init(ctx) {
      ctx.self.tell({ type: 'beat' });
      ctx.setStatus('backing-off', `registering node ${identity.nodeId}`);
      return { registered: false, beats: 0, lastError: undefined };
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'beat': {
          const registered = s.registered;
          // Outside the mailbox; the next beat is scheduled when this one is answered, so beats never overlap.
          (async () => {
            const db = await resources(ctx).db();
            if (registered && (await heartbeat(db, identity, staleAfterMs))) return { registered: true, twins: 0 };
            // First beat (or our row was purged while we were cut off): register, and see who shares our NODE_ID.
            return { registered: false, twins: await registerNode(db, identity, staleAfterMs) };
          })().then(
            ({ registered: was, twins }) => ctx.self.tell({ type: 'beaten', registered: was, twins }),
            (error: unknown) => ctx.self.tell({ type: 'failed', error }),
          );
          return s;
        }
        case 'beaten':
          if (!msg.registered) {
            ctx.log.info({ nodeId: identity.nodeId, incarnation: identity.incarnation }, s.registered ? 'node registered again (its row was gone)' : 'node registered');
            if (msg.twins > 0) ctx.log.warn({ nodeId: identity.nodeId, others: msg.twins }, `another live process runs with NODE_ID ${identity.nodeId}: give each process its own`);
          }
          s.registered = true;
          s.beats++;
          s.lastError = undefined;
          ctx.setStatus('running', undefined);
          next(ctx);
          return s;
        case 'failed':
          s.beats = 0;
          s.lastError = errorMessage(msg.error);
          ctx.log.warn({ err: msg.error }, 'node heartbeat not written');
          ctx.setStatus(
            'backing-off',
            `heartbeat not written (${s.lastError}); past ${staleAfterMs} ms without one the other nodes take over this node's batch claims`,
            msg.error,
          );
          next(ctx);
          return s;
      }
    },

    async cleanup(s, ctx) {
      if (!s.registered) return;
      const timeoutMs = options.stopTimeoutMs ?? 2_000;
      try {
        const db = await resources(ctx, timeoutMs).db();
        await Promise.race([
          stopNode(db, identity),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref()),
        ]);
      } catch (err) {
        // Not fatal: the heartbeat simply expires and the others take over after NODE_STALE_AFTER_MS.
        ctx.log.warn({ err }, 'node not marked stopped in the registry');
      }
    },
  });
}
