// The runtime side of a query: a Reply that settles a promise once, with a deadline on the injected clock.
import type { Clock, TimerHandle } from '../src/clock.js';
import type { Reply } from '../src/contracts/reply.js';
import { QueryTimeoutError } from '../src/errors/actor-errors.js';

/** Whoever holds pending replies (an actor incarnation) and must forget them once settled. */
export interface ReplyHolder {
  forget(reply: PendingReply<unknown>): void;
}

export class PendingReply<T> implements Reply<T> {
  readonly promise: Promise<T>;
  private resolveFn!: (v: T) => void;
  private rejectFn!: (e: Error) => void;
  private timer: TimerHandle | undefined;
  private done = false;
  /** The actor incarnation this reply waits on, so a restart can fail it at once. */
  holder: ReplyHolder | undefined;

  constructor(
    private readonly clock: Clock,
    actor: string,
    /** Set by the runtime once the message is built; named in the timeout error. */
    public messageType: string,
    deadlineMs: number,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    this.timer = clock.setTimeout(() => this.fail(new QueryTimeoutError(actor, this.messageType, deadlineMs)), deadlineMs);
  }

  get settled(): boolean {
    return this.done;
  }

  ok(value: T): void {
    if (this.finish()) this.resolveFn(value);
  }

  fail(error: Error): void {
    if (this.finish()) this.rejectFn(error);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.holder?.forget(this as PendingReply<unknown>);
    this.holder = undefined;
    return true;
  }
}

/** The PendingReply inside a message, if the message is a query made through the runtime. */
export function pendingReplyOf(msg: unknown): PendingReply<unknown> | undefined {
  const r = (msg as { replyTo?: unknown } | null)?.replyTo;
  return r instanceof PendingReply ? (r as PendingReply<unknown>) : undefined;
}

/** Any reply channel inside a message (ours or a caller's own), to answer with an error. */
export function replyOf(msg: unknown): Reply<unknown> | undefined {
  const r = (msg as { replyTo?: unknown } | null)?.replyTo;
  return r && typeof (r as Reply<unknown>).fail === 'function' ? (r as Reply<unknown>) : undefined;
}
