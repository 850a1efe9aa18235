// Restart policy as data: exponential backoff with cap and jitter (Akka BackoffSupervisor) and
// restart intensity (OTP: more than maxRestarts within withinMs and the supervisor gives up).

export interface BackoffPolicy {
  /** Delay before the first restart. @defaultValue 100 */
  readonly minMs: number;
  /** No delay is ever longer. @defaultValue 30_000 */
  readonly maxMs: number;
  /** Growth per consecutive restart. @defaultValue 2 */
  readonly factor: number;
  /** Random extra as a fraction of the delay (0.2 = up to +20 %), still capped at maxMs. @defaultValue 0.2 */
  readonly jitter: number;
  /** A child that ran this long without crashing starts again from minMs. @defaultValue 60_000 */
  readonly resetAfterMs: number;
}

export interface IntensityPolicy {
  /** @defaultValue 5 */
  readonly maxRestarts: number;
  /** @defaultValue 30_000 */
  readonly withinMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 100, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 60_000 };
export const DEFAULT_INTENSITY: IntensityPolicy = { maxRestarts: 5, withinMs: 30_000 };

/** Delay before restart number `attempt` (0-based), given a random number in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.minMs * policy.factor ** Math.max(0, attempt));
  return Math.min(policy.maxMs, Math.round(base * (1 + policy.jitter * random)));
}

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
