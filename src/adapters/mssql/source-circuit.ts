// The circuit of one SQL source: consecutive failures open it, a probe after a growing delay half-opens it, a success closes it.
import { backoffDelay, type BackoffPolicy } from '../../backoff.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitTransition {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly at: number;
  readonly why: string;
}

export interface CircuitPolicy {
  /** Consecutive failures (connects, probes, queries that met an outage) that open the circuit. @defaultValue 3 */
  readonly failureThreshold: number;
  /** Delays between connection attempts and probes; capped, with jitter. */
  readonly backoff: BackoffPolicy;
}

const KEPT_TRANSITIONS = 5;

export class SourceCircuit {
  state: CircuitState = 'closed';
  /** Consecutive failures since the last success. */
  failures = 0;
  /** Every failure since start, and how often the circuit opened. */
  totalFailures = 0;
  opens = 0;
  /** When the next attempt (connect or probe) is due; callers are told to retry then. */
  retryAt = 0;
  /** The most recent transitions, oldest first. */
  readonly transitions: CircuitTransition[] = [];
  private attempt = 0;

  constructor(private readonly policy: CircuitPolicy) {}

  /** Records a failure; returns the delay before the next attempt (growing, capped) and whether this opened the circuit. */
  failure(now: number, random: number, why: string): { delayMs: number; opened: boolean } {
    this.failures++;
    this.totalFailures++;
    const delayMs = backoffDelay(this.policy.backoff, this.attempt++, random);
    this.retryAt = now + delayMs;
    const wasClosed = this.state === 'closed';
    const opens = this.state === 'half-open' || (wasClosed && this.failures >= this.policy.failureThreshold);
    if (opens) {
      if (wasClosed) this.opens++;
      this.move('open', now, why);
    }
    return { delayMs, opened: opens && wasClosed };
  }

  /** An attempt starts while open: one probe goes through, callers still fail fast. */
  probing(now: number): void {
    if (this.state === 'open') this.move('half-open', now, 'probe');
  }

  /** A connect, probe or query succeeded: back to closed, delays start again from the minimum. */
  success(now: number): void {
    this.failures = 0;
    this.attempt = 0;
    if (this.state !== 'closed') this.move('closed', now, 'probe succeeded');
  }

  /** How long a caller refused now should wait: until the next attempt, at least a second. */
  retryAfterMs(now: number): number {
    return Math.max(1_000, this.retryAt - now);
  }

  private move(to: CircuitState, at: number, why: string): void {
    this.transitions.push({ from: this.state, to, at, why });
    if (this.transitions.length > KEPT_TRANSITIONS) this.transitions.shift();
    this.state = to;
  }
}
