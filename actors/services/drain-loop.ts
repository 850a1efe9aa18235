// The loop of an actor that drains a table in batches (the outbox relay, the SIC registrar): one batch at a time, the
// next at once when kicked or when the last one was full, else after a poll; a failed batch backs the loop off.
import type { ActorContext, Message } from '../../src/actor-behaviour.js';
import { type BackoffPolicy, backoffDelay } from '../../src/backoff.js';
import type { TimerHandle } from '../../src/clock.js';
import { toError } from '../../src/errors/app-error.js';

/** What the loop tells its actor: a poll is due, or a batch settled. The actor's message union includes these. */
export type DrainLoopMessage<R> = { type: 'tick' } | { type: 'batch-done'; result?: R; error?: Error };

export interface DrainLoopOptions<R> {
  /** Drains one batch; a rejection is a failure of the whole batch (the loop backs off). */
  readonly batch: () => Promise<R>;
  /** Delay between polls after a batch that left nothing to do at once. */
  readonly pollMs: number;
  /** Delays after failed batches, counted from the first of a run of failures. */
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
}

/** Kept in the actor's state; its methods run inside the actor's handler, so no two run at once. */
export class DrainLoop<R> {
  running = false;
  /** A kick or tick came while a batch ran: run again at once. */
  private again = false;
  /** The last batch failed: the timer decides the next one, kicks are ignored (they would hammer what is away). */
  backingOff = false;
  /** Failed batches in a row. */
  failures = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly ctx: Pick<ActorContext<Message>, 'setTimer' | 'clearTimer'>,
    private readonly tell: (message: DrainLoopMessage<R>) => void,
    private readonly options: DrainLoopOptions<R>,
  ) {}

  /** Work may be waiting (told after a commit that queued some): drain now, unless backing off. */
  kick(): void {
    if (!this.backingOff) this.wake();
  }

  /** The timer fired (a poll, or the end of a backoff). */
  tick(): void {
    this.timer = undefined;
    this.wake();
  }

  /** Runs a batch at `ms` from now (0: the first one, for rows left by a previous run). */
  schedule(ms: number): void {
    this.ctx.clearTimer(this.timer);
    this.timer = this.ctx.setTimer(() => this.tell({ type: 'tick' }), ms);
  }

  /** A batch failed: back off. Returns the delay before the next attempt. */
  failed(): number {
    this.running = false;
    this.failures++;
    this.backingOff = true;
    const delay = backoffDelay(this.options.backoff, this.failures - 1, this.options.random());
    this.schedule(delay);
    return delay;
  }

  /**
   * A batch succeeded: the next one now when `more` may wait or a kick came meanwhile, else after a poll.
   * Returns whether it ended a run of failures (the actor says it works again).
   */
  succeeded(more: boolean): boolean {
    this.running = false;
    const recovered = this.failures > 0 || this.backingOff;
    this.backingOff = false;
    this.failures = 0;
    if (this.again || more) this.start();
    else this.schedule(this.options.pollMs);
    return recovered;
  }

  private wake(): void {
    if (this.running) this.again = true;
    else this.start();
  }

  private start(): void {
    this.ctx.clearTimer(this.timer);
    this.timer = undefined;
    this.running = true;
    this.again = false;
    this.options.batch().then(
      (result) => this.tell({ type: 'batch-done', result }),
      (error: unknown) => this.tell({ type: 'batch-done', error: toError(error) }),
    );
  }
}
