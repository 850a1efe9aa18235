// What reading time and setting timers looks like: the pure cores take it, src/clock.ts implements it.

/** Opaque: whatever the clock gave back from setTimeout. */
export type TimerHandle = object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}
