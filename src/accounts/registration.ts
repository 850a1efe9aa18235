// Registering a customer: the phone's account row, the SMS code, and proving the phone with it.
import { randomUUID } from 'node:crypto';
import { assertStrongPin } from './strong-pin.js';
import { InvalidCodeError } from './account-errors.js';
import type { AccountDeps } from './account-deps.js';
import { audit } from './account-events.js';
import { codeExpiresInSeconds, sendCode } from './code-delivery.js';
import { checkCode } from './one-time-codes.js';

/** Sent instead of a code when someone registers a number that has an account. */
const KNOWN_NUMBER_NOTICE =
  "SamaConso : quelqu'un a demandé à créer un compte avec votre numéro, qui en a déjà un. Si c'est vous, connectez-vous ou réinitialisez votre code PIN. Sinon, ignorez ce message.";

/**
 * Registers a phone: the account row exists unproved, and the PIN and names chosen wait on the SMS code;
 * they reach the account only when the code proves the phone, so registering a number again can never
 * change the PIN of someone else's unproved account. A number that already has an account gets the same
 * answer (registration tells nobody who is a customer), but no code: its owner gets a notice instead, within
 * the same cooldown and budgets.
 */
export async function register(
  deps: AccountDeps,
  input: { phone: string; firstName: string; lastName: string; pin: string },
  ip: string,
): Promise<{ phone: string; codeExpiresInSeconds: number }> {
  assertStrongPin(input.pin, input.phone);
  await deps.limit('register', ip);
  const db = await deps.db();
  const pinHash = await deps.hasher.hash(input.pin);
  // ON CONFLICT: two registrations of one number at once meet here instead of failing on the unique index.
  const { rows } = await db.query<{ id: string; phone_proved_at: Date | null }>(
    `INSERT INTO users (id, phone, role, created_at) VALUES ($1, $2, 'customer', $3)
     ON CONFLICT (phone) DO UPDATE SET phone = EXCLUDED.phone RETURNING id, phone_proved_at`,
    [randomUUID(), input.phone, new Date(deps.clock.now())],
  );
  if (rows[0]?.phone_proved_at) {
    await sendCode(deps, db, input.phone, 'verify_phone', undefined, KNOWN_NUMBER_NOTICE);
    audit(deps, 'register_known_number', rows[0].id, {});
  } else {
    await sendCode(deps, db, input.phone, 'verify_phone', { pinHash, firstName: input.firstName, lastName: input.lastName });
  }
  return { phone: input.phone, codeExpiresInSeconds: codeExpiresInSeconds(deps) };
}

/**
 * Proves the phone with the code and the PIN chosen at registration: the PIN and names registered with that
 * code become the account's. Asking for the PIN too means a code sent for someone else's registration of
 * the same number (both SMS reach the phone's owner) cannot hand the account to that someone else.
 */
export async function verifyPhone(deps: AccountDeps, input: { phone: string; code: string; pin: string }, ip: string): Promise<{ verified: true }> {
  await deps.limit('verify-code', ip);
  const db = await deps.db();
  const now = deps.clock.now();
  const check = await db.transaction((c) => checkCode(c, { ...input, purpose: 'verify_phone', now, secret: deps.secret, policy: deps.codes }));
  if (!check.ok) throw new InvalidCodeError(check.attemptsLeft);
  // A right code with another PIN is spent: it was not this person's registration.
  if (!check.pending || !(await deps.hasher.verify(input.pin, check.pending.pinHash))) throw new InvalidCodeError(0);
  const { pinHash, firstName, lastName } = check.pending;
  const { rows } = await db.query<{ id: string }>(
    `UPDATE users SET pin_hash = $2, first_name = $3, last_name = $4, phone_proved_at = $5
      WHERE phone = $1 AND deleted_at IS NULL AND phone_proved_at IS NULL RETURNING id`,
    [input.phone, pinHash, firstName, lastName, new Date(now)],
  );
  audit(deps, 'phone_verified', rows[0]?.id ?? null, {});
  return { verified: true };
}
