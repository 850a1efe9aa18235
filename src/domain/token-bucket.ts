// The send-rate limit in front of FCM: a token bucket on the injected clock, and the interface the push
// scheduler uses so a Redis-shared bucket (one per FCM project, shared by all workers) can stand in later.

import type { Clock } from './clock.js';

/**
 * What the push scheduler asks before handing out a batch. Synchronous on purpose: the scheduler decides
 * in `next()`; a Redis-shared implementation leases tokens ahead into a local bucket and refills it in the
 * background (falling back to this worker's share when Redis is down).
 */
export interface RateLimit {
  /** Takes `n` tokens if all of them may go now (all or nothing). */
  tryTake(n: number): boolean;
  /** Milliseconds until `tryTake(n)` would succeed (0 = now), counting any pause. */
  msUntil(n: number): number;
  /** Grants nothing before the epoch time `atMs` (a 429's Retry-After). A later pause wins; an earlier one is ignored. */
  pauseUntil(atMs: number): void;
}

export interface TokenBucketOptions {
  /** Most tokens the bucket holds (the burst). */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
  /** Tokens at start. @defaultValue capacity */
  readonly initial?: number;
}

/**
 * A local token bucket. A request larger than the capacity is granted when the bucket is full and leaves it
 * in debt, so the long-run rate still holds; `take` grants partially, `tryTake` all or nothing.
 */
export class TokenBucket implements RateLimit {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private tokens: number;
  private last: number;
  private pausedUntil = 0;

  constructor(
    private readonly clock: Clock,
    options: TokenBucketOptions,
  ) {
    if (!(options.capacity > 0) || !Number.isFinite(options.capacity)) throw new RangeError('capacity must be a positive number');
    if (!(options.refillPerSecond > 0) || !Number.isFinite(options.refillPerSecond)) {
      throw new RangeError('refillPerSecond must be a positive number');
    }
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.tokens = Math.min(options.initial ?? options.capacity, options.capacity);
    this.last = clock.now();
  }

  /** Builds a bucket from a per-minute quota (FCM's is per minute); the burst defaults to one second's worth. */
  static perMinute(clock: Clock, perMinute: number, capacity = perMinute / 60): TokenBucket {
    return new TokenBucket(clock, { capacity, refillPerSecond: perMinute / 60 });
  }

  /** Tokens available now (may be negative after an oversized grant). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Grants up to `n` tokens now; returns how many were granted (0 while paused). */
  take(n: number): number {
    checkCount(n);
    this.refill();
    if (this.paused()) return 0;
    const granted = Math.max(0, Math.min(n, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }

  tryTake(n: number): boolean {
    checkCount(n);
    this.refill();
    if (this.paused()) return false;
    if (this.tokens < Math.min(n, this.capacity)) return false;
    this.tokens -= n;
    return true;
  }

  msUntil(n: number): number {
    checkCount(n);
    this.refill();
    const now = this.clock.now();
    const pause = Math.max(0, this.pausedUntil - now);
    const missing = Math.min(n, this.capacity) - this.tokens;
    const refill = missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.refillPerSecond);
    // Refill keeps running during a pause, so the wait is the longer of the two.
    return Math.max(pause, refill);
  }

  pauseUntil(atMs: number): void {
    if (atMs > this.pausedUntil) this.pausedUntil = atMs;
  }

  /** Convenience for a Retry-After in milliseconds. */
  pauseFor(ms: number): void {
    this.pauseUntil(this.clock.now() + Math.max(0, ms));
  }

  private paused(): boolean {
    return this.clock.now() < this.pausedUntil;
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.refillPerSecond) / 1000);
      this.last = now;
    }
  }
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`token count must be a non-negative integer, got ${n}`);
}
