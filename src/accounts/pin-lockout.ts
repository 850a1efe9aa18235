// The per-account PIN lockout: wrong PINs inside a sliding window (PIN_FAILURE_WINDOW_MS) are counted in
// login_failures; from the fifth one the account locks, each further one doubling the lock up to a ceiling.
// Failures older than the window stop counting, so a lock decays on its own; a PIN reset over SMS clears it.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';

export interface LockoutPolicy {
  /** Wrong PINs within the window before the account locks. @defaultValue 5 */
  readonly freeFailures: number;
  /** First lock; doubles with every further failure in the window. @defaultValue 60 s */
  readonly baseLockMs: number;
  /** @defaultValue 1 hour */
  readonly maxLockMs: number;
  /** How long a wrong PIN counts. @defaultValue 1 hour (PIN_FAILURE_WINDOW_MS) */
  readonly failureWindowMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { freeFailures: 5, baseLockMs: 60_000, maxLockMs: 3_600_000, failureWindowMs: 3_600_000 };

/**
 * Counts one PIN attempt as a failure before it is checked (under the row's lock, so parallel guesses cannot
 * all slip under the limit); the caller clears the failures when the PIN was right. Returns how long the
 * account stays locked when it is locked now (the attempt is then neither counted nor to be checked).
 */
export async function reservePinAttempt(db: PgHandle, userId: string, now: number, policy: LockoutPolicy): Promise<number | undefined> {
  return db.transaction(async (c) => {
    await c.query(`INSERT INTO login_failures (user_id, failures, last_failure_at) VALUES ($1, 0, $2) ON CONFLICT (user_id) DO NOTHING`, [userId, new Date(now)]);
    const { rows } = await c.query<{ locked_until: Date | null; recent_failures: Date[] }>(
      `SELECT locked_until, recent_failures FROM login_failures WHERE user_id = $1 FOR UPDATE`,
      [userId],
    );
    const lockedUntil = rows[0]?.locked_until?.getTime();
    if (lockedUntil !== undefined && lockedUntil > now) return lockedUntil - now;
    const recent = [...(rows[0]?.recent_failures ?? []).filter((t) => t.getTime() > now - policy.failureWindowMs), new Date(now)];
    const over = recent.length - policy.freeFailures;
    const lock = over >= 0 ? new Date(now + Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** over)) : null;
    await c.query(`UPDATE login_failures SET failures = $2, recent_failures = $3, locked_until = $4, last_failure_at = $5 WHERE user_id = $1`, [
      userId,
      recent.length,
      recent,
      lock,
      new Date(now),
    ]);
    return undefined;
  });
}
