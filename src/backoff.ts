// Exponential backoff with cap and jitter, shared by restart delays, reconnect loops and the dispatch outage hold.

export interface BackoffPolicy {
  /** Delay before the first retry. @defaultValue 100 */
  readonly minMs: number;
  /** No delay is ever longer. @defaultValue 30_000 */
  readonly maxMs: number;
  /** Growth per consecutive retry. @defaultValue 2 */
  readonly factor: number;
  /** Random extra as a fraction of the delay (0.2 = up to +20 %), still capped at maxMs. @defaultValue 0.2 */
  readonly jitter: number;
  /** After this long without a failure the next delay starts again from minMs. @defaultValue 60_000 */
  readonly resetAfterMs: number;
}

/** Delay before retry number `attempt` (0-based), given a random number in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.minMs * policy.factor ** Math.max(0, attempt));
  return Math.min(policy.maxMs, Math.round(base * (1 + policy.jitter * random)));
}
