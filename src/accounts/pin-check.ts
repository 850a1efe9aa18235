// Checking a customer's PIN against the lockout: a login's check, and the one before the owner changes or deletes the account.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { AccountLockedError, InvalidCredentialsError } from './account-errors.js';
import type { AccountDeps } from './account-deps.js';
import { reservePinAttempt } from './pin-lockout.js';

/**
 * Counts this PIN attempt before checking it (pin-lockout.ts: only failures inside the window count),
 * verifies it, and clears the count on success. Locked: refused before any hashing.
 */
export async function attemptPin(deps: AccountDeps, db: PgHandle, user: { id: string; pin_hash: string | null }, pin: string): Promise<void> {
  const lockedForMs = await reservePinAttempt(db, user.id, deps.clock.now(), deps.lockout);
  if (lockedForMs !== undefined) throw new AccountLockedError(Math.max(1_000, lockedForMs));
  const ok = await deps.hasher.verify(pin, user.pin_hash ?? (await deps.hasher.dummy));
  if (!ok || !user.pin_hash) throw new InvalidCredentialsError();
  await db.query(`DELETE FROM login_failures WHERE user_id = $1`, [user.id]);
}

/**
 * Checks the caller's own PIN like a login does (it counts towards the lockout). `beforeAttempt` sees the
 * account first and may refuse the request without a PIN attempt being counted.
 */
export async function verifyOwnPin(deps: AccountDeps, db: PgHandle, userId: string, pin: string, beforeAttempt?: (user: { phone: string | null }) => void): Promise<void> {
  const { rows } = await db.query<{ id: string; pin_hash: string | null; phone: string | null }>(`SELECT id, pin_hash, phone FROM users WHERE id = $1 AND deleted_at IS NULL`, [userId]);
  if (!rows[0]) {
    await deps.hasher.verify(pin, await deps.hasher.dummy);
    throw new InvalidCredentialsError();
  }
  beforeAttempt?.(rows[0]);
  await attemptPin(deps, db, rows[0], pin);
}
