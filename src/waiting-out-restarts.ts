// The HTTP gateway's one retry: a query the actor never started, failed because that actor was restarting (an on-call
// restart of its supervisor, or a crash restart), is sent again once it is back, within the same deadline. It had no
// effect, so sending it again is safe; a query the handler had started is never sent again (it may have had part of
// its effect), and every other error goes to the caller as it was. So restarting a supervisor the requests go
// through costs them a few milliseconds, not a 503.
import { ActorRestartingError } from './errors/actor-errors.js';

export interface WaitOptions {
  /** Time left for the whole query, in ms: the retries never outlast it. */
  readonly deadlineMs: number;
  /** The pause before the first retry, doubled each time up to `maxPauseMs`. @defaultValue 10 */
  readonly firstPauseMs?: number;
  /** @defaultValue 200 */
  readonly maxPauseMs?: number;
  /** Milliseconds now; monotonic. @defaultValue performance.now */
  readonly now?: () => number;
  /** Waits `ms`. @defaultValue a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

const timer = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `send(deadlineMs)` and sends it again while it fails with an ActorRestartingError it never started. */
export async function waitingOutRestarts<T>(send: (deadlineMs: number) => Promise<T>, options: WaitOptions): Promise<T> {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? timer;
  const maxPauseMs = options.maxPauseMs ?? 200;
  const end = now() + options.deadlineMs;
  let pause = options.firstPauseMs ?? 10;
  for (;;) {
    try {
      return await send(Math.max(1, Math.round(end - now())));
    } catch (e) {
      if (!(e instanceof ActorRestartingError) || e.started || now() + pause >= end) throw e;
    }
    await sleep(pause);
    pause = Math.min(pause * 2, maxPauseMs);
  }
}
