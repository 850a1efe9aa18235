// Sending a one-time code by SMS (registration, PIN reset), or a notice in its place.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { AccountDeps } from './account-deps.js';
import { issueCode, type PendingRegistration } from './one-time-codes.js';

/**
 * Issues a code and sends it, or sends `text` instead: a code nobody receives still holds the cooldown and the
 * budgets, so a notice costs and answers exactly what a code does.
 */
export function sendCode(deps: AccountDeps, db: PgHandle, phone: string, purpose: 'verify_phone' | 'pin_reset', pending?: PendingRegistration, text?: string): Promise<void> {
  return issueCode(db, { phone, purpose, now: deps.clock.now(), secret: deps.secret, policy: deps.codes, watch: deps.watch, ...(pending ? { pending } : {}) }, (code) =>
    deps.sendSms(phone, text ?? `SamaConso : votre code est ${code}. Il expire dans ${Math.round(deps.codes.ttlMs / 60_000)} minutes.`),
  );
}

/** How long a code sent now stays good, as the routes answer it. */
export const codeExpiresInSeconds = (deps: AccountDeps): number => Math.round(deps.codes.ttlMs / 1000);
