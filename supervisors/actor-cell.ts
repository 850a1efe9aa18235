// One incarnation of an actor: a nact mailbox with our own crash handling, pending-reply tracking,
// timers and cleanup. nact never sees an error: its supervision is never used (FACTS.md pitfalls).
import { spawn, stop as nactStop, dispatch as nactDispatch, type Ref } from 'nact';
import type { TimerHandle } from '../src/clock.js';
import { ActorCrashedError } from '../src/errors/actor-errors.js';
import { AppError, errorMessage } from '../src/errors/app-error.js';
import type { Logger } from '../src/logger.js';
import type { ActorBehaviour, ActorContext, ActorRef, Message, SelfReportedState } from '../src/actor-behaviour.js';
import { pendingReplyOf, replyOf, type PendingReply, type ReplyHolder } from './pending-reply.js';
import type { CellHost } from './cell-host.js';
import type { StatsRecord } from './stats.js';

/** How an incarnation ended, as told to its supervisor. */
export type Exit = { kind: 'crash'; error: unknown } | { kind: 'normal' };

/** Thrown into the crash path when a handler returns undefined (nact would silently wipe the state). */
export class InvalidActorStateError extends AppError {
  readonly code = 'INVALID_ACTOR_STATE';
  constructor(readonly actor: string, readonly messageType: string) {
    super(`handler of ${actor} returned undefined for ${messageType}; a handler must return the next state`);
  }
}

type Phase = 'starting' | 'running' | 'crashed' | 'stopping' | 'stopped';

/** What nact carries: a signal to drain the cell's own queue (the messages themselves never enter nact). */
type DrainSignal = { readonly type: '$drain' };
const DRAIN: DrainSignal = { type: '$drain' };

/**
 * Messages handled per drain before the cell yields to the event loop (the next drain is one more nact turn):
 * nact spends a setImmediate, a context and a promise per delivery, so handing it one signal per batch rather than
 * one per message saves that on every message but the first of a batch, while I/O still gets a turn between batches.
 */
export const DRAIN_BATCH = 64;

export class ActorCell<S, M extends Message> implements ReplyHolder {
  private phase: Phase = 'starting';
  private state: S | undefined;
  private nactRef: Ref<DrainSignal> | undefined;
  /** The mailbox: a FIFO read from `head`; nact only schedules its drains (one signal in nact at a time). */
  private queue: (M | undefined)[] = [];
  private head = 0;
  private drainSignalled = false;
  private readonly pending = new Set<PendingReply<unknown>>();
  private readonly timers = new Set<TimerHandle>();
  private readonly abort = new AbortController();
  private readonly ctx: ActorContext<M>;
  private initDone: Promise<void> | undefined;
  private inFlight: Promise<unknown> | undefined;
  /** Pending replies whose message the handler took: a stop fails them as started (they may have had an effect). */
  private readonly started = new WeakSet<PendingReply<unknown>>();
  private stopping: Promise<void> | undefined;
  /** Set once cleanup has run: a state arriving later is cleaned up on its own. */
  private cleanedUp = false;

  constructor(
    private readonly runtime: CellHost,
    readonly name: string,
    private readonly behaviour: ActorBehaviour<S, M>,
    private readonly stats: StatsRecord,
    private readonly shutdownTimeoutMs: number,
    private readonly log: Logger,
    private readonly onExit: (cell: ActorCell<S, M>, exit: Exit) => void,
  ) {
    const self = runtime.ref<M>(name);
    const clock = runtime.clock;
    this.ctx = {
      name,
      self,
      log,
      clock,
      signal: this.abort.signal,
      ask: (to, type, payload, deadlineMs) => runtime.ask(to, type, payload, deadlineMs),
      query: (to, build, deadlineMs) => runtime.query(to, build, deadlineMs),
      ref: (n) => runtime.ref(n),
      setTimer: (fn, ms) => {
        const h: TimerHandle = clock.setTimeout(() => {
          this.timers.delete(h);
          if (this.phase === 'running') this.guard(fn);
        }, ms);
        this.timers.add(h);
        return h;
      },
      clearTimer: (h) => {
        if (!h) return;
        clock.clearTimeout(h);
        this.timers.delete(h);
      },
      setStatus: (state: SelfReportedState, detail?: string, error?: unknown) => {
        if (this.phase !== 'running' && this.phase !== 'starting') return;
        this.stats.state = state;
        this.stats.detail = detail;
        if (error !== undefined) this.stats.noteError(error, clock.now());
      },
      crash: (error) => this.crash(error, undefined),
      stopSelf: () => {
        if (this.phase === 'running' || this.phase === 'starting') this.onExit(this, { kind: 'normal' });
      },
    };
  }

  /** Spawns the mailbox and runs init; resolves when the actor runs (or has crashed in init). */
  start(): Promise<void> {
    this.stats.state = 'starting';
    this.stats.detail = undefined;
    this.nactRef = spawn(this.runtime.nactSystem, (nstate: number) => this.receive(nstate), this.name, { initialState: 0 });
    this.initDone = (async () => {
      try {
        const state = await this.behaviour.init(this.ctx);
        if (this.cleanedUp) return this.lateCleanup(state, 'init');
        this.state = state;
        if (this.phase === 'starting') {
          this.phase = 'running';
          if (this.stats.state === 'starting') this.stats.state = 'running';
        }
      } catch (error) {
        this.crash(error, undefined);
      }
    })();
    return this.initDone;
  }

  /** Queues a message; its reply (if a runtime query) is now pending on this incarnation. */
  enqueue(msg: M): void {
    const reply = pendingReplyOf(msg);
    if (reply && !reply.settled) {
      reply.holder = this;
      this.pending.add(reply);
    }
    this.stats.mailboxDepth++;
    this.queue.push(msg);
    this.signalDrain();
  }

  /** One drain signal in nact at a time: sent when the queue gains work and none is pending. */
  private signalDrain(): void {
    if (this.drainSignalled || this.head === this.queue.length) return;
    this.drainSignalled = true;
    nactDispatch(this.nactRef!, DRAIN);
  }

  private take(): M | undefined {
    if (this.head === this.queue.length) return undefined;
    const msg = this.queue[this.head];
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.stats.mailboxDepth--;
    return msg;
  }

  forget(reply: PendingReply<unknown>): void {
    this.pending.delete(reply);
  }

  /** Fails every pending reply now (a restart was decided): callers must not wait for the stop to finish. */
  failPending(error: (name: string, started: boolean) => Error): void {
    for (const r of [...this.pending]) r.fail(error(this.name, this.started.has(r)));
    this.pending.clear();
  }

  get isAlive(): boolean {
    return this.phase === 'starting' || this.phase === 'running';
  }

  private receive(nstate: number): number | Promise<number> {
    if (this.phase === 'starting') return this.initDone!.then(() => this.drain(nstate));
    return this.drain(nstate);
  }

  /** Handles queued messages one at a time, in order; an async handler is waited for before the next message. */
  private drain(nstate: number): number | Promise<number> {
    for (let n = 0; n < DRAIN_BATCH; n++) {
      const msg = this.take();
      if (msg === undefined) break;
      const handled = this.receiveStarted(nstate, msg);
      if (handled instanceof Promise) return handled.then(() => this.drained(nstate));
    }
    return this.drained(nstate);
  }

  private drained(nstate: number): number {
    this.drainSignalled = false;
    // Left work (a full batch, or messages that came while a handler ran): one more nact turn, after I/O. (A stopped
    // mailbox ignores it; until then a crashed or stopping incarnation drains its queue as dropped messages.)
    this.signalDrain();
    return nstate;
  }

  private receiveStarted(nstate: number, msg: M): number | Promise<number> {
    if (this.phase !== 'running') {
      // Left in the mailbox of a crashed or stopping incarnation: a query among them was failed already.
      this.runtime.dropped(this.name, msg);
      return nstate;
    }
    const reply = pendingReplyOf(msg);
    if (reply && !reply.settled) this.started.add(reply);
    let result: S | Promise<S>;
    try {
      result = this.behaviour.handle(this.state as S, msg, this.ctx);
    } catch (error) {
      this.stats.handled++;
      this.crash(error, msg);
      return nstate;
    }
    // A synchronous handler costs no promise; an async one is tracked so a stop can wait for it.
    if (!(result instanceof Promise)) {
      this.settle(result, msg);
      return nstate;
    }
    const inFlight = result.then(
      (next) => this.settle(next, msg),
      (error: unknown) => {
        this.stats.handled++;
        this.crash(error, msg);
      },
    );
    this.inFlight = inFlight;
    return inFlight.then(() => {
      if (this.inFlight === inFlight) this.inFlight = undefined;
      return nstate;
    });
  }

  /** Takes the state a handler returned — even after a crash or a stop began, so cleanup sees it. */
  private settle(next: S, msg: M): void {
    this.stats.handled++;
    if (next === undefined) {
      this.crash(new InvalidActorStateError(this.name, msg.type), msg);
      return;
    }
    if (this.cleanedUp) this.lateCleanup(next, msg.type);
    else this.state = next;
  }

  /** A state that arrived after cleanup ran (an init or handler slower than the shutdown timeout). */
  private lateCleanup(state: S, what: string): void {
    this.log.warn({ after: what }, 'state arrived after cleanup; cleaning it up late');
    if (!this.behaviour.cleanup) return;
    try {
      Promise.resolve(this.behaviour.cleanup(state, this.ctx)).catch((e: unknown) => this.log.error({ err: e }, 'late cleanup failed'));
    } catch (e) {
      this.log.error({ err: e }, 'late cleanup failed');
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.crash(error, undefined);
    }
  }

  /** Records a crash, answers the message that caused it, and tells the supervisor (which decides). */
  private crash(error: unknown, msg: M | undefined): void {
    if (this.phase !== 'running' && this.phase !== 'starting') return;
    this.phase = 'crashed';
    this.stats.crashes++;
    this.stats.state = 'failed';
    this.stats.noteError(error, this.runtime.clock.now());
    this.log.error({ err: error, messageType: msg?.type }, 'actor crashed');
    const reply = msg ? replyOf(msg) : undefined;
    if (reply && !reply.settled) reply.fail(new ActorCrashedError(this.name, error));
    if (this.behaviour.onCrash) {
      // Every onCrash is contained: neither a throw nor a rejection can escape (nact pitfall 3).
      try {
        Promise.resolve(this.behaviour.onCrash(error, this.ctx)).catch((e: unknown) =>
          this.log.error({ err: e }, 'onCrash hook rejected'),
        );
      } catch (e) {
        this.log.error({ err: e }, 'onCrash hook threw');
      }
    }
    this.onExit(this, { kind: 'crash', error });
  }

  /**
   * Stops this incarnation for good: lets the in-flight message finish (bounded), fails every pending
   * reply with `pendingError`, clears its timers, aborts its signal, stops the mailbox, runs cleanup.
   */
  stop(pendingError: (name: string, started: boolean) => Error): Promise<void> {
    if (this.stopping) return this.stopping;
    const wasStarting = this.phase === 'starting';
    this.phase = 'stopping';
    this.stopping = (async () => {
      // What init or the in-flight handler opens must reach cleanup: wait for them (bounded).
      if (wasStarting && this.initDone) await this.runtime.within(this.initDone, this.shutdownTimeoutMs);
      if (this.inFlight) await this.runtime.within(this.inFlight, this.shutdownTimeoutMs);
      if (this.behaviour.drainsOnStop) {
        // The queries already handled, whose replies come when their work settles: let them answer (bounded).
        const answering = [...this.pending].filter((r) => this.started.has(r)).map((r) => r.promise.catch(() => undefined));
        if (answering.length > 0) await this.runtime.within(Promise.all(answering), this.shutdownTimeoutMs);
      }
      for (const h of this.timers) this.runtime.clock.clearTimeout(h);
      this.timers.clear();
      this.abort.abort();
      this.failPending(pendingError);
      if (this.nactRef) nactStop(this.nactRef);
      this.queue = [];
      this.head = 0;
      this.stats.mailboxDepth = 0;
      this.cleanedUp = true;
      if (this.behaviour.cleanup && this.state !== undefined) {
        try {
          const ok = await this.runtime.within(Promise.resolve(this.behaviour.cleanup(this.state, this.ctx)), this.shutdownTimeoutMs);
          if (!ok) this.log.warn({ timeoutMs: this.shutdownTimeoutMs }, 'cleanup did not finish within the shutdown timeout');
        } catch (error) {
          this.log.error({ err: error }, `cleanup failed: ${errorMessage(error)}`);
        }
      }
      this.phase = 'stopped';
    })();
    return this.stopping;
  }
}

export type AnyCell = ActorCell<unknown, Message>;
export type { ActorRef };
