// Typed errors of the accounts service; the HTTP status of each code is in src/errors/error-codes.ts.
import { AppError } from '../errors/app-error.js';
import type { WeakPinRule } from '../domain/pin-rules.js';

/** Unknown phone or wrong PIN (or agent login): one answer for all, so nothing tells which. */
export class InvalidCredentialsError extends AppError {
  readonly code = 'INVALID_CREDENTIALS';
  constructor() {
    super('The phone number or PIN is not correct.');
  }
}

export class AccountLockedError extends AppError {
  readonly code = 'ACCOUNT_LOCKED';
  constructor(readonly retryAfterMs: number) {
    super('Too many wrong PINs: the account is locked for a while.');
  }
}

export class PhoneNotVerifiedError extends AppError {
  readonly code = 'PHONE_NOT_VERIFIED';
  constructor() {
    super('The phone number is not verified yet: enter the code sent by SMS.');
  }
}

/** The code of each weak-PIN rule (written out, so the error-status test finds every code in the sources). */
const WEAK_PIN_CODES = {
  REPEATED: 'WEAK_PIN_REPEATED',
  SEQUENCE: 'WEAK_PIN_SEQUENCE',
  COMMON: 'WEAK_PIN_COMMON',
  PHONE: 'WEAK_PIN_PHONE',
} as const satisfies Record<WeakPinRule, `WEAK_PIN_${WeakPinRule}`>;

/** A PIN an attacker would try first (see pin-rules.ts); the code names the rule: WEAK_PIN_REPEATED … */
export class WeakPinError extends AppError {
  readonly code: (typeof WEAK_PIN_CODES)[WeakPinRule];
  constructor(readonly rule: WeakPinRule, message: string) {
    super(message);
    this.code = WEAK_PIN_CODES[rule];
  }
}

/** No valid code: wrong, expired, burnt after too many tries, or never sent. */
export class InvalidCodeError extends AppError {
  readonly code = 'INVALID_CODE';
  constructor(readonly attemptsLeft: number) {
    super(attemptsLeft > 0 ? `The code is not valid (${attemptsLeft} tries left).` : 'The code is not valid; ask for a new one.');
  }
}

export class CodeCooldownError extends AppError {
  readonly code = 'CODE_COOLDOWN';
  constructor(readonly retryAfterMs: number) {
    super('A code was sent moments ago; wait before asking for another.');
  }
}

/** A budget of SMS is spent: the phone's hour or day, or the overall day (the message says which). */
export class SmsBudgetExceededError extends AppError {
  readonly code = 'SMS_BUDGET_EXCEEDED';
  constructor(readonly retryAfterMs: number, message = 'No more SMS can be sent to this number today.') {
    super(message);
  }
}

/** A refresh token that is not valid, or a token whose account or session no longer exists: sign in again. 401. */
export class InvalidRefreshTokenError extends AppError {
  readonly code = 'INVALID_REFRESH_TOKEN';
  constructor(message = 'The refresh token is not valid; sign in again.', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class TokenIssuingUnavailableError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor() {
    super('This process holds no signing key and cannot issue tokens.');
  }
}
