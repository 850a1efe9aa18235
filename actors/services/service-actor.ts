// The one shape of a service actor: each message starts one operation of its service and replies when it settles.
import type { ActorBehaviour, ActorContext, Message } from '../../src/actor-behaviour.js';
import type { Reply } from '../../src/contracts/reply.js';

type Query = Message & { readonly replyTo: Reply<never> };

/** What each message type runs: one service call, whose result (or typed error) is the reply. */
export type Operations<S, M extends Query> = { [K in M['type']]: (service: S, msg: Extract<M, { type: K }>) => Promise<unknown> };

export interface ServiceActorOptions<S, M extends Query> {
  /** Builds the service once per incarnation (so a restart gets a fresh one). */
  readonly service: (ctx: ActorContext<M>) => S;
  readonly operations: Operations<S, M>;
  /** Runs after a successful reply (e.g. kicking another actor); never delays the reply. */
  readonly afterReply?: (msg: M, value: unknown, ctx: ActorContext<M>) => void;
}

export function serviceActor<S, M extends Query>(options: ServiceActorOptions<S, M>): () => ActorBehaviour<S, M> {
  return () => ({
    init: (ctx) => options.service(ctx),
    // A restart or shutdown lets the operations under way answer first (bounded by the shutdown timeout).
    drainsOnStop: true,
    handle(service, msg, ctx) {
      const run = options.operations[msg.type as M['type']] as (s: S, m: M) => Promise<unknown>;
      const reply = msg.replyTo as Reply<unknown>;
      run(service, msg).then(
        (value) => {
          reply.ok(value);
          options.afterReply?.(msg, value, ctx);
        },
        (e: Error) => reply.fail(e),
      );
      return service;
    },
  });
}
