// What an actor file declares: its state, the messages it takes, and how it starts, handles and cleans up.
import type { Clock, TimerHandle } from './clock.js';
import type { PayloadOf, Reply, ReplyOf } from './contracts/reply.js';
import type { Logger } from './logger.js';

export interface Message {
  readonly type: string;
}

/** A stable handle on a named actor: it survives restarts (it resolves the name at each send). */
export interface ActorRef<M extends Message> {
  readonly name: string;
  tell(msg: M): void;
}

/** The statuses an actor may report itself; crashes, restarts and stops are the runtime's to set. */
export type SelfReportedState = 'running' | 'backing-off' | 'paused';

export interface Asker {
  /** One query with a deadline: rejects with the callee's typed error, QueryTimeoutError, ActorRestartingError … */
  ask<M extends Message, T extends M['type']>(
    to: ActorRef<M>,
    type: T,
    payload: PayloadOf<Extract<M, { type: T }>>,
    deadlineMs: number,
  ): Promise<ReplyOf<Extract<M, { type: T }>>>;
  /** The general form: build the message around the reply channel. */
  query<R, M extends Message>(to: ActorRef<M>, build: (replyTo: Reply<R>) => M, deadlineMs: number): Promise<R>;
  ref<M extends Message>(name: string): ActorRef<M>;
}

export interface ActorContext<M extends Message> extends Asker {
  /** The actor's unique name. */
  readonly name: string;
  readonly self: ActorRef<M>;
  readonly log: Logger;
  readonly clock: Clock;
  /** Aborted when this incarnation stops: pass it to I/O the actor starts. */
  readonly signal: AbortSignal;
  /** A timer cleared automatically when this incarnation stops. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle | undefined): void;
  /**
   * Reports an outage or a pause as state (not a crash: it never spends the restart budget).
   * `detail` says why, for the on-call view.
   */
  setStatus(state: SelfReportedState, detail?: string, error?: unknown): void;
  /** A crash found outside the handler (in a callback of work the handler started). */
  crash(error: unknown): void;
  /** Ends this actor normally: a transient or temporary child is not restarted. */
  stopSelf(): void;
}

export interface ActorBehaviour<S, M extends Message> {
  /** Builds the starting state; throwing here counts as a crash. Keep it short: connect in the background. */
  init(ctx: ActorContext<M>): S | Promise<S>;
  /**
   * Handles one message and returns the next state. Never await I/O here on a request path: start it,
   * return, and reply (or tell yourself) when it settles. Throwing is a crash: the message's reply gets
   * ActorCrashedError at once and the supervisor decides.
   */
  handle(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  /**
   * Its handlers start work and reply when it settles, beside the mailbox (the service actors): a graceful stop
   * (shutdown, on-call restart) waits for the replies of the queries already handled, bounded by the shutdown
   * timeout, before failing what is left. A crash restart does not wait.
   */
  readonly drainsOnStop?: boolean;
  /** Runs once when the incarnation stops (shutdown, restart, give-up), bounded by the shutdown timeout. */
  cleanup?(state: S, ctx: ActorContext<M>): void | Promise<void>;
  /** Observes a crash (for logging or metrics); it cannot change the decision and its own errors are contained. */
  onCrash?(error: unknown, ctx: ActorContext<M>): void | Promise<void>;
}
