// Changing a customer's PIN: the reset over SMS (request, confirm) and the change with the current PIN.
import type { Caller } from '../contracts/caller.js';
import { assertStrongPin } from './strong-pin.js';
import { SmsDeliveryUnknownError } from '../adapters/sms/sms-errors.js';
import { CodeCooldownError, InvalidCodeError, SmsBudgetExceededError } from './account-errors.js';
import type { AccountDeps } from './account-deps.js';
import { announceEnded, audit } from './account-events.js';
import { codeExpiresInSeconds, sendCode } from './code-delivery.js';
import { checkCode } from './one-time-codes.js';
import { verifyOwnPin } from './pin-check.js';
import { endSessions } from './sessions.js';

/**
 * Sends a reset code when the phone has a verified account. The answer is the same for any number:
 * a cooldown or an exhausted budget of a real account is not told apart from an unknown number.
 */
export async function requestPinReset(deps: AccountDeps, input: { phone: string }, ip: string): Promise<{ phone: string; codeExpiresInSeconds: number }> {
  await deps.limit('pin-reset', ip);
  const db = await deps.db();
  const { rows } = await db.query(`SELECT 1 FROM users WHERE phone = $1 AND deleted_at IS NULL AND phone_proved_at IS NOT NULL AND role = 'customer'`, [input.phone]);
  if (rows[0]) {
    try {
      await sendCode(deps, db, input.phone, 'pin_reset');
    } catch (e) {
      // The same answer as for an unknown number; a code whose SMS may still arrive counts as sent.
      if (!(e instanceof CodeCooldownError || e instanceof SmsBudgetExceededError || e instanceof SmsDeliveryUnknownError)) throw e;
    }
  }
  return { phone: input.phone, codeExpiresInSeconds: codeExpiresInSeconds(deps) };
}

/**
 * Code + new PIN: the PIN changes, the lockout clears, and every session ends. A weak PIN is refused before
 * the code is looked at (it stays usable); the code is checked before any hashing.
 */
export async function confirmPinReset(deps: AccountDeps, input: { phone: string; code: string; newPin: string }, ip: string): Promise<{ reset: true }> {
  assertStrongPin(input.newPin, input.phone);
  await deps.limit('verify-code', ip);
  const db = await deps.db();
  const now = deps.clock.now();
  const check = await db.transaction((c) => checkCode(c, { phone: input.phone, code: input.code, purpose: 'pin_reset', now, secret: deps.secret, policy: deps.codes }));
  if (!check.ok) throw new InvalidCodeError(check.attemptsLeft);
  const pinHash = await deps.hasher.hash(input.newPin);
  const { userId, ended } = await db.transaction(async (c) => {
    const { rows } = await c.query<{ id: string }>(`UPDATE users SET pin_hash = $2 WHERE phone = $1 AND deleted_at IS NULL RETURNING id`, [input.phone, pinHash]);
    const id = rows[0]?.id ?? null;
    if (!id) return { userId: null, ended: [] };
    await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [id]);
    return { userId: id, ended: await endSessions(c, { userId: id }, { reason: 'pin_reset', at: now }) };
  });
  if (userId) announceEnded(deps, userId, ended);
  audit(deps, 'pin_reset', userId, {});
  return { reset: true };
}

/** Current PIN + new PIN (a weak one is refused before the current PIN is tried); every other session ends (this device stays signed in). */
export async function changePin(deps: AccountDeps, caller: Caller, input: { currentPin: string; newPin: string }): Promise<{ changed: true }> {
  const db = await deps.db();
  await verifyOwnPin(deps, db, caller.userId, input.currentPin, (user) => assertStrongPin(input.newPin, user.phone));
  const pinHash = await deps.hasher.hash(input.newPin);
  const ended = await db.transaction(async (c) => {
    await c.query(`UPDATE users SET pin_hash = $2 WHERE id = $1`, [caller.userId, pinHash]);
    await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [caller.userId]);
    return endSessions(c, { userId: caller.userId, ...(caller.sessionId ? { exceptSessionId: caller.sessionId } : {}) }, { reason: 'pin_changed', at: deps.clock.now() });
  });
  announceEnded(deps, caller.userId, ended);
  audit(deps, 'pin_changed', caller.userId, { sessionId: caller.sessionId ?? null });
  return { changed: true };
}
