// The FCM send-rate limit shared by every worker through Redis: one token bucket per FCM project lives in
// Redis; each worker leases chunks of it into a local stock in the background, so `tryTake` stays synchronous.
// A 429's pause is written to Redis too, so one 429 pauses every worker. While Redis does not answer, the
// worker falls back to a local TokenBucket at its share (ratePerMinute / workerCount) and keeps trying Redis.
//
// Time: the Redis bucket refills and pauses by Redis's own clock (`TIME` inside the script), so workers with
// skewed clocks share one time line; a pause is sent as a duration (atMs - clock.now()) and anchored there.

import { Redis } from 'ioredis';
import type { Clock, TimerHandle } from '../../clock.js';
import { TokenBucket, type RateLimit } from '../../domain/token-bucket.js';

/** Default FCM quota per project (messages per minute). */
export const DEFAULT_FCM_RATE_PER_MINUTE = 600_000;

export interface SharedRateLimitOptions {
  /** A Redis URL (a client is made with no offline queue and a short command timeout) or a client to own. */
  readonly redis: string | Redis;
  readonly clock: Clock;
  /** The FCM project: one shared bucket per project. */
  readonly projectId: string;
  /** @defaultValue 600,000 */
  readonly ratePerMinute?: number;
  /** Workers sharing the project: the fallback rate is ratePerMinute / workerCount. @defaultValue 1 */
  readonly workerCount?: number;
  /** Burst of the shared bucket. @defaultValue one second's worth */
  readonly burst?: number;
  /** Tokens leased from Redis at a time (the local stock is topped up to this). @defaultValue 100 ms' worth / workerCount, at least 1 */
  readonly chunk?: number;
  /** Background lease period. @defaultValue 50 */
  readonly refillEveryMs?: number;
  /** Command timeout of a client made from a URL. @defaultValue 250 */
  readonly commandTimeoutMs?: number;
  /** @defaultValue 'samaconso:fcm-rate:' */
  readonly keyPrefix?: string;
  /** Called on each switch to the local fallback, with the error. */
  readonly onFallback?: (error: unknown) => void;
}

export interface SharedRateLimitStats {
  readonly mode: 'redis' | 'local';
  /** Switches to the local fallback so far. */
  readonly fallbacks: number;
  /** Failed lease calls so far. */
  readonly redisErrors: number;
  /** Tokens leased from Redis so far. */
  readonly leased: number;
  /** Leased tokens not yet taken. */
  readonly stock: number;
}

// KEYS[1] bucket hash; ARGV: tokens per ms, burst, wanted, pause duration (ms, 0 = none), key TTL (ms),
// worker count. Returns { granted, ms the pause still runs }. One lease takes at most 1/workerCount of what
// the bucket holds (at least 1 token): otherwise the worker whose timer fires first after each refill takes
// everything that accrued and starves the others. A lone busy worker still reaches the full rate once the
// bucket settles at workerCount periods' refill (needs burst >= workerCount x rate x refillEveryMs).
const LEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local pauseFor = tonumber(ARGV[4])
local shares = tonumber(ARGV[6])
local h = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'pause')
local tokens = tonumber(h[1])
local ts = tonumber(h[2])
local pause = tonumber(h[3]) or 0
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
  ts = now
end
if pauseFor > 0 and now + pauseFor > pause then pause = now + pauseFor end
local granted = 0
if now >= pause then
  granted = math.max(0, math.min(want, math.floor(tokens), math.max(1, math.floor(tokens / shares))))
  tokens = tokens - granted
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts), 'pause', tostring(pause))
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[5]), pause - now + 1000))
return { granted, math.max(0, pause - now) }
`;

export class SharedRateLimit implements RateLimit {
  readonly key: string;
  readonly ratePerMinute: number;
  readonly workerCount: number;
  readonly burst: number;
  readonly chunk: number;
  private readonly redis: Redis;
  private readonly clock: Clock;
  private readonly refillEveryMs: number;
  private readonly onFallback: (error: unknown) => void;
  private mode: 'redis' | 'local' = 'redis';
  private fallback: TokenBucket | undefined;
  /** Leased tokens not yet taken. */
  private stock = 0;
  /** Largest request refused since the last lease, so a batch above the chunk can still be leased for. */
  private wanted = 0;
  private pausedUntil = 0;
  /** A pause not yet written to Redis (epoch ms on this clock). */
  private pendingPause = 0;
  private inFlight: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;
  private fallbacks = 0;
  private redisErrors = 0;
  private leasedTotal = 0;
  private readonly startedAt: number;
  private readonly connectGraceMs: number;
  private everReady = false;

  constructor(options: SharedRateLimitOptions) {
    this.ratePerMinute = options.ratePerMinute ?? DEFAULT_FCM_RATE_PER_MINUTE;
    this.workerCount = options.workerCount ?? 1;
    if (!(this.ratePerMinute > 0) || !Number.isFinite(this.ratePerMinute)) throw new RangeError('ratePerMinute must be a positive number');
    if (!Number.isInteger(this.workerCount) || this.workerCount < 1) throw new RangeError('workerCount must be a positive integer');
    this.burst = options.burst ?? this.ratePerMinute / 60;
    this.chunk = options.chunk ?? Math.max(1, Math.ceil(this.ratePerMinute / 600 / this.workerCount));
    if (!(this.burst > 0)) throw new RangeError('burst must be positive');
    if (!Number.isInteger(this.chunk) || this.chunk < 1) throw new RangeError('chunk must be a positive integer');
    this.refillEveryMs = options.refillEveryMs ?? 50;
    this.clock = options.clock;
    this.key = `${options.keyPrefix ?? 'samaconso:fcm-rate:'}${options.projectId}`;
    this.onFallback = options.onFallback ?? (() => {});
    this.redis =
      typeof options.redis === 'string'
        ? new Redis(options.redis, {
            enableOfflineQueue: false,
            commandTimeout: options.commandTimeoutMs ?? 250,
            maxRetriesPerRequest: 0,
            retryStrategy: () => 200,
          })
        : options.redis;
    // Errors surface through the failed commands; an unhandled 'error' event would crash the process.
    this.redis.on('error', () => {});
    this.startedAt = this.clock.now();
    this.connectGraceMs = 4 * (options.commandTimeoutMs ?? 250);
    this.everReady = this.redis.status === 'ready';
    if (!this.everReady) this.redis.once('ready', () => this.kick());
    this.schedule(0);
  }

  tryTake(n: number): boolean {
    checkCount(n);
    if (n === 0) return !this.paused();
    if (this.paused()) return false;
    if (this.mode === 'local') return this.localBucket().tryTake(n);
    if (this.stock >= n) {
      this.stock -= n;
      return true;
    }
    this.wanted = Math.max(this.wanted, n);
    return false;
  }

  msUntil(n: number): number {
    checkCount(n);
    const pause = Math.max(0, this.pausedUntil - this.clock.now());
    if (this.mode === 'local') return Math.max(pause, this.localBucket().msUntil(n));
    if (this.stock >= n) return pause;
    // The stock can only grow at a lease, and a lease may grant anything from nothing (the others took it) to the
    // whole bucket (they are idle): try again after the next one. Waiting out the missing tokens at this worker's
    // share instead paced every worker at ratePerMinute / workerCount, whatever Redis would grant — a lone busy
    // worker of two got half the project's rate.
    return Math.max(pause, this.refillEveryMs);
  }

  pauseUntil(atMs: number): void {
    if (atMs <= this.pausedUntil) return;
    this.pausedUntil = atMs;
    this.fallback?.pauseUntil(atMs);
    this.pendingPause = Math.max(this.pendingPause, atMs);
    this.kick();
  }

  stats(): SharedRateLimitStats {
    return { mode: this.mode, fallbacks: this.fallbacks, redisErrors: this.redisErrors, leased: this.leasedTotal, stock: this.stock };
  }

  /** Resolves once the lease in flight (if any) has settled; for tests and orderly shutdown. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  /** Stops the timers and closes the Redis client. Leased tokens left over are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    this.redis.disconnect();
  }

  private paused(): boolean {
    return this.clock.now() < this.pausedUntil;
  }

  private localBucket(): TokenBucket {
    if (!this.fallback) {
      // Starts empty: the worker just lost its view of what the others took.
      const share = this.ratePerMinute / this.workerCount;
      this.fallback = new TokenBucket(this.clock, {
        capacity: Math.max(1, this.burst / this.workerCount),
        refillPerSecond: share / 60,
        initial: 0,
      });
      this.fallback.pauseUntil(this.pausedUntil);
    }
    return this.fallback;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
      // Jittered (0.5 to 1.5 periods): workers whose timers ran in lockstep would always reach Redis in the
      // same order, and the first would take each refill before the others.
      this.schedule(this.refillEveryMs * (0.5 + Math.random()));
    }, ms);
  }

  /** Starts a lease unless one is in flight. Only the timer and a new pause start leases (see `schedule`). */
  private kick(): void {
    if (this.closed || this.inFlight) return;
    this.inFlight = this.lease().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async lease(): Promise<void> {
    const target = Math.max(this.chunk, this.wanted);
    const want = this.mode === 'redis' ? Math.max(0, target - this.stock) : target;
    const pauseAt = this.pendingPause;
    const pauseFor = pauseAt > 0 ? Math.max(0, Math.ceil(pauseAt - this.clock.now())) : 0;
    // Called even with nothing wanted: the reply carries any pause another worker set.
    // A client still making its first connection gets a short grace before it counts as down.
    if (!this.everReady && this.redis.status !== 'ready' && this.clock.now() - this.startedAt < this.connectGraceMs) return;
    let reply: unknown;
    try {
      reply = await this.redis.eval(LEASE_SCRIPT, 1, this.key, String(this.ratePerMinute / 60_000), String(this.burst),
        String(want), String(pauseFor), String(Math.max(60_000, Math.ceil((this.burst / this.ratePerMinute) * 120_000))), String(this.workerCount));
    } catch (error) {
      this.redisErrors += 1;
      if (this.mode === 'redis') {
        this.mode = 'local';
        this.fallbacks += 1;
        this.stock = 0;
        this.onFallback(error);
      }
      return;
    }
    this.everReady = true;
    if (this.closed) return;
    const [granted, pauseLeft] = (reply as [number, number]).map(Number) as [number, number];
    if (pauseAt > 0 && this.pendingPause === pauseAt) this.pendingPause = 0;
    if (this.mode === 'local') {
      this.mode = 'redis';
      this.fallback = undefined;
    }
    this.stock += granted;
    this.leasedTotal += granted;
    if (this.stock >= this.wanted) this.wanted = 0;
    if (pauseLeft > 0) {
      const at = this.clock.now() + pauseLeft;
      if (at > this.pausedUntil) this.pausedUntil = at;
    }
  }
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`token count must be a non-negative integer, got ${n}`);
}
