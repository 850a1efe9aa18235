// Restart policy as data: exponential backoff with cap and jitter (Akka BackoffSupervisor, in src/backoff.ts)
// and restart intensity (OTP: more than maxRestarts within withinMs and the supervisor gives up).
import type { BackoffPolicy } from '../src/backoff.js';

export { backoffDelay, type BackoffPolicy } from '../src/backoff.js';

export interface IntensityPolicy {
  /** @defaultValue 5 */
  readonly maxRestarts: number;
  /** @defaultValue 30_000 */
  readonly withinMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 100, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 60_000 };
export const DEFAULT_INTENSITY: IntensityPolicy = { maxRestarts: 5, withinMs: 30_000 };

/** The sliding window of recent restarts of one supervisor. */
export class RestartIntensity {
  private readonly times: number[] = [];

  constructor(private readonly policy: IntensityPolicy) {}

  /** Records a restart at `now`; false when that exceeds the policy (the supervisor must give up). */
  record(now: number): boolean {
    this.times.push(now);
    while (this.times.length > 0 && this.times[0]! <= now - this.policy.withinMs) this.times.shift();
    return this.times.length <= this.policy.maxRestarts;
  }

  get recent(): number {
    return this.times.length;
  }

  clear(): void {
    this.times.length = 0;
  }
}
