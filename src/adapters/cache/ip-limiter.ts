// Per-client-IP limits on the public routes that can be abused (PIN guessing, SMS pumping).
// Counted in Redis so every API instance shares them; while Redis is down, each process falls back to
// its own in-memory counters (rate-limiter-flexible's insurance limiter) rather than opening the gate.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../../errors/app-error.js';

export class TooManyRequestsError extends AppError {
  readonly code = 'TOO_MANY_REQUESTS';
  constructor(readonly retryAfterMs: number) {
    super('Too many requests; try again later.');
  }
}

export interface IpLimit {
  /** Requests allowed per window. */
  readonly points: number;
  readonly windowSeconds: number;
}

/**
 * Generous, because mobile carriers put many customers behind one address (carrier-grade NAT); the
 * per-account lockout in PostgreSQL is what stops PIN guessing on one account.
 */
export const IP_LIMITS = {
  login: { points: 60, windowSeconds: 60 },
  'pin-reset': { points: 10, windowSeconds: 3_600 },
  register: { points: 20, windowSeconds: 3_600 },
  /** Checking SMS codes (phone proof, PIN reset): codes burn after 5 tries, this bounds spraying many phones. */
  'verify-code': { points: 60, windowSeconds: 600 },
  /** Looking up a subscription request (public, answered only to its phone on file): per client address. */
  subscription: { points: 60, windowSeconds: 600 },
  /**
   * The same lookup counted per notice number, whoever asks: one number cannot be probed for its phone from many
   * addresses. Its owner checks a request a few times a day.
   */
  'subscription-notice': { points: 10, windowSeconds: 3_600 },
  /**
   * Linking a meter, per user (keyed by user id): counted before the lookup, misses included, so a customer cannot
   * enumerate meter numbers nor flood owners with access requests. A household links a few meters, once.
   */
  'meter-link': { points: 10, windowSeconds: 3_600 },
  /** The same, per client address: one prober with many accounts behind one address. */
  'meter-link-ip': { points: 30, windowSeconds: 3_600 },
} as const satisfies Record<string, IpLimit>;
export type LimitedAction = keyof typeof IP_LIMITS;

export interface IpLimiter {
  /**
   * Counts one request against `key` (the client address, or what the action names: a notice number);
   * rejects with TooManyRequestsError (429, Retry-After) over the limit.
   */
  consume(action: LimitedAction, key: string): Promise<void>;
}

export function createIpLimiter(redis: Redis | undefined): IpLimiter {
  const limiters = new Map<LimitedAction, RateLimiterAbstract>();
  const limiterFor = (action: LimitedAction): RateLimiterAbstract => {
    let l = limiters.get(action);
    if (!l) {
      const { points, windowSeconds: duration } = IP_LIMITS[action];
      const memory = new RateLimiterMemory({ points, duration, keyPrefix: `ip:${action}` });
      l = redis
        ? new RateLimiterRedis({ storeClient: redis, points, duration, keyPrefix: `samaconso:ip:${action}`, rejectIfRedisNotReady: true, insuranceLimiter: memory })
        : memory;
      limiters.set(action, l);
    }
    return l;
  };
  return {
    async consume(action, key) {
      try {
        await limiterFor(action).consume(key);
      } catch (e) {
        if (e instanceof RateLimiterRes) throw new TooManyRequestsError(e.msBeforeNext);
        throw e;
      }
    },
  };
}
