// The accounts service: registration with SMS proof, PIN login with lockout, rotating refresh tokens,
// logout, profile and push token. Every time comes from the injected clock.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Caller, UserRole } from '../contracts/caller.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { ValidationError, errorCode } from '../errors/app-error.js';
import {
  AccountLockedError,
  CodeCooldownError,
  SmsBudgetExceededError,
  InvalidCodeError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  PhoneNotVerifiedError,
  TokenIssuingUnavailableError,
} from './account-errors.js';
import { SmsDeliveryUnknownError } from '../adapters/sms/sms-errors.js';
import { checkCode, issueCode, pendingPinHash, type CodePolicy, type PendingRegistration } from './one-time-codes.js';
import type { PinHasher } from './pin-hasher.js';
import type { AuthWatch, LoginKind } from './auth-watch.js';
import { reservePinAttempt, type LockoutPolicy } from './pin-lockout.js';
import { assertStrongPin } from './strong-pin.js';
import { rotateRefreshToken } from './session-refresh.js';
import type { SessionPolicy } from '../domain/session-policy.js';
import { endSessions, openSession, setPushToken, tokenPair, type TokenContext } from './sessions.js';
import type { Profile, TokenPair } from '../contracts/accounts.js';
import type { SigningKey } from './token-keys.js';
import type { LimitedAction } from '../adapters/cache/ip-limiter.js';
import type { DirectoryAgent } from '../contracts/directory.js';
import type { EndedSessions } from '../contracts/live.js';

export interface AccountDeps {
  db(): Promise<PgHandle>;
  readonly clock: Clock;
  readonly hasher: PinHasher;
  readonly signing: SigningKey | undefined;
  readonly secret: Buffer;
  readonly issuer: string;
  readonly audience: string;
  readonly sessions: SessionPolicy;
  readonly codes: CodePolicy;
  readonly lockout: LockoutPolicy;
  /** Where abuse of the public routes is reported (SMS budgets, failed logins); read by /metrics. */
  readonly watch?: AuthWatch;
  /** Sends one SMS now; rejects with SMS_UNAVAILABLE when the gateway cannot take it. */
  sendSms(to: string, text: string): Promise<void>;
  /** Checks an agent's directory password; rejects with INVALID_CREDENTIALS or DIRECTORY_UNAVAILABLE. */
  authenticateAgent(login: string, password: string): Promise<DirectoryAgent>;
  /** The agent's directory entry now, without a password (null: no longer an agent); rejects with DIRECTORY_UNAVAILABLE. */
  lookupAgent(login: string): Promise<DirectoryAgent | null>;
  /** Per-client-IP limit of a public action; rejects with TOO_MANY_REQUESTS. */
  limit(action: LimitedAction, ip: string): Promise<void>;
  /** Reports an audit write that failed (the operation itself has already succeeded). */
  onAuditError?(error: unknown): void;
  /**
   * Sessions this service ended, after the commit: their access tokens are refused and their sockets closed on every
   * instance from now on (src/accounts/session-revocations.ts).
   */
  sessionsEnded(ended: EndedSessions): void;
}

export interface Device {
  readonly deviceModel: string;
  readonly platform: 'android' | 'ios' | 'web';
  readonly pushToken?: string | undefined;
}

interface UserRow {
  id: string;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  pin_hash: string | null;
  role: UserRole;
  agency_code: string | null;
  phone_proved_at: Date | null;
}

const USER_COLUMNS = `id, phone, first_name, last_name, email, pin_hash, role, agency_code, phone_proved_at`;

/** Sent instead of a code when someone registers a number that has an account. */
const KNOWN_NUMBER_NOTICE =
  "SamaConso : quelqu'un a demandé à créer un compte avec votre numéro, qui en a déjà un. Si c'est vous, connectez-vous ou réinitialisez votre code PIN. Sinon, ignorez ce message.";

const profileOf = (u: UserRow): Profile => ({
  id: u.id,
  phone: u.phone,
  firstName: u.first_name,
  lastName: u.last_name,
  email: u.email,
  role: u.role,
  agency: u.agency_code,
  phoneVerified: u.phone_proved_at !== null,
});

export class AccountService {
  constructor(private readonly deps: AccountDeps) {}

  /** Records a security event in audit_log (kept when the account is deleted); never fails the caller. */
  private audit(event: string, userId: string | null, details: Record<string, unknown>): void {
    this.deps
      .db()
      .then((db) => db.query(`INSERT INTO audit_log (at, user_id, event, details) VALUES ($1, $2, $3, $4)`, [new Date(this.deps.clock.now()), userId, event, details]))
      .catch((e: unknown) => this.deps.onAuditError?.(e));
  }

  private tokenContext(): TokenContext {
    if (!this.deps.signing) throw new TokenIssuingUnavailableError();
    return { signing: this.deps.signing, secret: this.deps.secret, issuer: this.deps.issuer, audience: this.deps.audience, policy: this.deps.sessions };
  }

  /**
   * Issues a code and sends it, or sends `text` instead: a code nobody receives still holds the cooldown and the
   * budgets, so a notice costs and answers exactly what a code does.
   */
  private sendCode(db: PgHandle, phone: string, purpose: 'verify_phone' | 'pin_reset', pending?: PendingRegistration, text?: string): Promise<void> {
    return issueCode(db, { phone, purpose, now: this.deps.clock.now(), secret: this.deps.secret, policy: this.deps.codes, watch: this.deps.watch, ...(pending ? { pending } : {}) }, (code) =>
      this.deps.sendSms(phone, text ?? `SamaConso : votre code est ${code}. Il expire dans ${Math.round(this.deps.codes.ttlMs / 60_000)} minutes.`),
    );
  }

  /**
   * Registers a phone: the account row exists unproved, and the PIN and names chosen wait on the SMS code;
   * they reach the account only when the code proves the phone, so registering a number again can never
   * change the PIN of someone else's unproved account. A number that already has an account gets the same
   * answer (registration tells nobody who is a customer), but no code: its owner gets a notice instead, within
   * the same cooldown and budgets.
   */
  async register(input: { phone: string; firstName: string; lastName: string; pin: string }, ip: string): Promise<{ phone: string; codeExpiresInSeconds: number }> {
    assertStrongPin(input.pin, input.phone);
    await this.deps.limit('register', ip);
    const db = await this.deps.db();
    const pinHash = await this.deps.hasher.hash(input.pin);
    // ON CONFLICT: two registrations of one number at once meet here instead of failing on the unique index.
    const { rows } = await db.query<{ id: string; phone_proved_at: Date | null }>(
      `INSERT INTO users (id, phone, role, created_at) VALUES ($1, $2, 'customer', $3)
       ON CONFLICT (phone) DO UPDATE SET phone = EXCLUDED.phone RETURNING id, phone_proved_at`,
      [randomUUID(), input.phone, new Date(this.deps.clock.now())],
    );
    if (rows[0]?.phone_proved_at) {
      await this.sendCode(db, input.phone, 'verify_phone', undefined, KNOWN_NUMBER_NOTICE);
      this.audit('register_known_number', rows[0].id, {});
    } else {
      await this.sendCode(db, input.phone, 'verify_phone', { pinHash, firstName: input.firstName, lastName: input.lastName });
    }
    return { phone: input.phone, codeExpiresInSeconds: Math.round(this.deps.codes.ttlMs / 1000) };
  }

  /**
   * Proves the phone with the code and the PIN chosen at registration: the PIN and names registered with that
   * code become the account's. Asking for the PIN too means a code sent for someone else's registration of
   * the same number (both SMS reach the phone's owner) cannot hand the account to that someone else.
   */
  async verifyPhone(input: { phone: string; code: string; pin: string }, ip: string): Promise<{ verified: true }> {
    await this.deps.limit('verify-code', ip);
    const db = await this.deps.db();
    const now = this.deps.clock.now();
    const check = await db.transaction((c) => checkCode(c, { ...input, purpose: 'verify_phone', now, secret: this.deps.secret, policy: this.deps.codes }));
    if (!check.ok) throw new InvalidCodeError(check.attemptsLeft);
    // A right code with another PIN is spent: it was not this person's registration.
    if (!check.pending || !(await this.deps.hasher.verify(input.pin, check.pending.pinHash))) throw new InvalidCodeError(0);
    const { pinHash, firstName, lastName } = check.pending;
    const { rows } = await db.query<{ id: string }>(
      `UPDATE users SET pin_hash = $2, first_name = $3, last_name = $4, phone_proved_at = $5
        WHERE phone = $1 AND deleted_at IS NULL AND phone_proved_at IS NULL RETURNING id`,
      [input.phone, pinHash, firstName, lastName, new Date(now)],
    );
    this.audit('phone_verified', rows[0]?.id ?? null, {});
    return { verified: true };
  }

  /**
   * Counts this PIN attempt before checking it (pin-lockout.ts: only failures inside the window count),
   * verifies it, and clears the count on success. Locked: refused before any hashing.
   */
  private async attemptPin(db: PgHandle, user: { id: string; pin_hash: string | null }, pin: string): Promise<void> {
    const lockedForMs = await reservePinAttempt(db, user.id, this.deps.clock.now(), this.deps.lockout);
    if (lockedForMs !== undefined) throw new AccountLockedError(Math.max(1_000, lockedForMs));
    const ok = await this.deps.hasher.verify(pin, user.pin_hash ?? (await this.deps.hasher.dummy));
    if (!ok || !user.pin_hash) throw new InvalidCredentialsError();
    await db.query(`DELETE FROM login_failures WHERE user_id = $1`, [user.id]);
  }

  /** A rejection handler for a sign-in: a refused PIN or password is counted (samaconso_login_failures_total), then rethrown. */
  failedLogin(kind: LoginKind): (e: unknown) => never {
    return (e) => {
      // By code: the directory's refusal of an agent password is its own class with the same code.
      if (errorCode(e) === 'INVALID_CREDENTIALS') this.deps.watch?.loginFailed(kind);
      throw e;
    };
  }

  /** Phone + PIN → tokens. Unknown phone and wrong PIN cost the same bcrypt work and get the same answer. */
  async login(input: { phone: string; pin: string } & Device, ip: string): Promise<TokenPair & { user: Profile }> {
    const ctx = this.tokenContext();
    await this.deps.limit('login', ip);
    const db = await this.deps.db();
    const now = this.deps.clock.now();
    const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE phone = $1 AND deleted_at IS NULL AND role = 'customer'`, [input.phone]);
    const user = rows[0];
    if (!user) {
      await this.deps.hasher.verify(input.pin, await this.deps.hasher.dummy);
      throw new InvalidCredentialsError();
    }
    if (!user.phone_proved_at) {
      // The PIN waits on the registration code: the right one says "verify first", any other "wrong PIN".
      const pending = await pendingPinHash(db, input.phone, now);
      const ok = await this.deps.hasher.verify(input.pin, pending ?? (await this.deps.hasher.dummy));
      throw ok && pending ? new PhoneNotVerifiedError() : new InvalidCredentialsError();
    }
    await this.attemptPin(db, user, input.pin);
    const session = await db.transaction((c) =>
      openSession(c, { userId: user.id, kind: 'customer', deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: this.deps.sessions }),
    );
    this.ended(user.id, session.ended);
    this.audit('login', user.id, { sessionId: session.sessionId, deviceModel: input.deviceModel });
    const pair = await tokenPair(ctx, { userId: user.id, role: user.role, agency: user.agency_code, sessionId: session.sessionId }, session.refreshToken, now);
    return { ...pair, user: profileOf(user) };
  }

  /**
   * An agent (or admin) signs in with the directory's login and password. The user row is created or
   * updated from the directory entry (agency included); its role stays admin once an admin made it so.
   */
  async agentLogin(input: { login: string; password: string } & Device, ip: string): Promise<TokenPair & { user: Profile }> {
    const ctx = this.tokenContext();
    await this.deps.limit('login', ip);
    const agent = await this.deps.authenticateAgent(input.login, input.password);
    const db = await this.deps.db();
    const now = this.deps.clock.now();
    const { user, session } = await db.transaction(async (c) => {
      await c.query(`INSERT INTO agencies (code, name) VALUES ($1, $1) ON CONFLICT (code) DO NOTHING`, [agent.agency]);
      const { rows } = await c.query<UserRow>(
        `INSERT INTO users (id, ldap_login, first_name, email, role, agency_code, created_at) VALUES ($1, $2, $3, $4, 'agent', $5, $6)
         ON CONFLICT (ldap_login) DO UPDATE SET first_name = EXCLUDED.first_name, email = EXCLUDED.email, agency_code = EXCLUDED.agency_code
         WHERE users.deleted_at IS NULL
         RETURNING ${USER_COLUMNS}`,
        [randomUUID(), agent.login.toLowerCase(), agent.displayName, agent.email, agent.agency, new Date(now)],
      );
      const user = rows[0];
      if (!user) throw new InvalidCredentialsError();
      // An agent's session never slides and is checked against the directory again at refresh (session-refresh.ts).
      const session = await openSession(c, { userId: user.id, kind: 'agent', deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: this.deps.sessions });
      return { user, session };
    });
    this.ended(user.id, session.ended);
    this.audit('agent_login', user.id, { sessionId: session.sessionId, agency: agent.agency });
    const pair = await tokenPair(ctx, { userId: user.id, role: user.role, agency: user.agency_code, sessionId: session.sessionId }, session.refreshToken, now);
    return { ...pair, user: profileOf(user) };
  }

  /**
   * Rotates a refresh token (src/accounts/session-refresh.ts): the previous one stays good for the grace window and
   * returns the same new pair; after it, presenting it again revokes the whole session and is audited. Agents' sessions
   * are checked against the directory again when due.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const ctx = this.tokenContext();
    const db = await this.deps.db();
    const outcome = await rotateRefreshToken(
      { db, now: this.deps.clock.now(), secret: this.deps.secret, policy: this.deps.sessions, lookupAgent: (login) => this.deps.lookupAgent(login) },
      refreshToken,
    );
    if (outcome.kind === 'refused') {
      if (outcome.userId) this.ended(outcome.userId, outcome.ended);
      if (outcome.audit) this.audit(outcome.audit, outcome.userId, { sessionIds: outcome.ended });
      throw new InvalidRefreshTokenError();
    }
    return tokenPair(ctx, { userId: outcome.userId, role: outcome.role, agency: outcome.agency, sessionId: outcome.sessionId }, outcome.next, outcome.issuedAt);
  }

  /** Ends this session (or all of the caller's) and removes their push tokens. */
  async logout(caller: Caller, all: boolean): Promise<{ ended: number }> {
    const db = await this.deps.db();
    const at = this.deps.clock.now();
    const ended = await db.transaction((c) =>
      all || !caller.sessionId ? endSessions(c, { userId: caller.userId }, { reason: 'logout_all', at }) : endSessions(c, { sessionIds: [caller.sessionId] }, { reason: 'logout', at }),
    );
    this.ended(caller.userId, ended);
    this.audit(all ? 'logout_all' : 'logout', caller.userId, { sessionId: caller.sessionId ?? null });
    return { ended: ended.length };
  }

  /**
   * Sends a reset code when the phone has a verified account. The answer is the same for any number:
   * a cooldown or an exhausted budget of a real account is not told apart from an unknown number.
   */
  async requestPinReset(input: { phone: string }, ip: string): Promise<{ phone: string; codeExpiresInSeconds: number }> {
    await this.deps.limit('pin-reset', ip);
    const db = await this.deps.db();
    const { rows } = await db.query(`SELECT 1 FROM users WHERE phone = $1 AND deleted_at IS NULL AND phone_proved_at IS NOT NULL AND role = 'customer'`, [input.phone]);
    if (rows[0]) {
      try {
        await this.sendCode(db, input.phone, 'pin_reset');
      } catch (e) {
        // The same answer as for an unknown number; a code whose SMS may still arrive counts as sent.
        if (!(e instanceof CodeCooldownError || e instanceof SmsBudgetExceededError || e instanceof SmsDeliveryUnknownError)) throw e;
      }
    }
    return { phone: input.phone, codeExpiresInSeconds: Math.round(this.deps.codes.ttlMs / 1000) };
  }

  /**
   * Code + new PIN: the PIN changes, the lockout clears, and every session ends. A weak PIN is refused before
   * the code is looked at (it stays usable); the code is checked before any hashing.
   */
  async confirmPinReset(input: { phone: string; code: string; newPin: string }, ip: string): Promise<{ reset: true }> {
    assertStrongPin(input.newPin, input.phone);
    await this.deps.limit('verify-code', ip);
    const db = await this.deps.db();
    const now = this.deps.clock.now();
    const check = await db.transaction((c) => checkCode(c, { phone: input.phone, code: input.code, purpose: 'pin_reset', now, secret: this.deps.secret, policy: this.deps.codes }));
    if (!check.ok) throw new InvalidCodeError(check.attemptsLeft);
    const pinHash = await this.deps.hasher.hash(input.newPin);
    const { userId, ended } = await db.transaction(async (c) => {
      const { rows } = await c.query<{ id: string }>(`UPDATE users SET pin_hash = $2 WHERE phone = $1 AND deleted_at IS NULL RETURNING id`, [input.phone, pinHash]);
      const id = rows[0]?.id ?? null;
      if (!id) return { userId: null, ended: [] };
      await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [id]);
      return { userId: id, ended: await endSessions(c, { userId: id }, { reason: 'pin_reset', at: now }) };
    });
    if (userId) this.ended(userId, ended);
    this.audit('pin_reset', userId, {});
    return { reset: true };
  }

  /**
   * Checks the caller's own PIN like a login does (it counts towards the lockout). `beforeAttempt` sees the
   * account first and may refuse the request without a PIN attempt being counted.
   */
  private async verifyOwnPin(db: PgHandle, userId: string, pin: string, beforeAttempt?: (user: { phone: string | null }) => void): Promise<void> {
    const { rows } = await db.query<{ id: string; pin_hash: string | null; phone: string | null }>(`SELECT id, pin_hash, phone FROM users WHERE id = $1 AND deleted_at IS NULL`, [userId]);
    if (!rows[0]) {
      await this.deps.hasher.verify(pin, await this.deps.hasher.dummy);
      throw new InvalidCredentialsError();
    }
    beforeAttempt?.(rows[0]);
    await this.attemptPin(db, rows[0], pin);
  }

  /** Current PIN + new PIN (a weak one is refused before the current PIN is tried); every other session ends (this device stays signed in). */
  async changePin(caller: Caller, input: { currentPin: string; newPin: string }): Promise<{ changed: true }> {
    const db = await this.deps.db();
    await this.verifyOwnPin(db, caller.userId, input.currentPin, (user) => assertStrongPin(input.newPin, user.phone));
    const pinHash = await this.deps.hasher.hash(input.newPin);
    const ended = await db.transaction(async (c) => {
      await c.query(`UPDATE users SET pin_hash = $2 WHERE id = $1`, [caller.userId, pinHash]);
      await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [caller.userId]);
      return endSessions(c, { userId: caller.userId, ...(caller.sessionId ? { exceptSessionId: caller.sessionId } : {}) }, { reason: 'pin_changed', at: this.deps.clock.now() });
    });
    this.ended(caller.userId, ended);
    this.audit('pin_changed', caller.userId, { sessionId: caller.sessionId ?? null });
    return { changed: true };
  }

  /**
   * Deletes the account (PIN required): personal data goes, sessions and push tokens end; the row stays,
   * empty, so the audit trail keeps its references. Meter links end with it once they exist.
   */
  async deleteAccount(caller: Caller, input: { pin: string }): Promise<void> {
    const db = await this.deps.db();
    await this.verifyOwnPin(db, caller.userId, input.pin);
    const ended = await db.transaction(async (c) => {
      const { rows } = await c.query<{ phone: string | null }>(`SELECT phone FROM users WHERE id = $1 FOR UPDATE`, [caller.userId]);
      const phone = rows[0]?.phone;
      const ended = await endSessions(c, { userId: caller.userId }, { reason: 'account_deleted', at: this.deps.clock.now() });
      await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [caller.userId]);
      if (phone) await c.query(`DELETE FROM one_time_codes WHERE phone = $1`, [phone]);
      await c.query(
        `UPDATE users SET phone = NULL, first_name = NULL, last_name = NULL, email = NULL, pin_hash = NULL, deleted_at = $2 WHERE id = $1`,
        [caller.userId, new Date(this.deps.clock.now())],
      );
      return ended;
    });
    this.ended(caller.userId, ended);
    this.audit('account_deleted', caller.userId, {});
  }

  /** Announces session ends once they are committed. */
  private ended(userId: string, sessionIds: readonly string[]): void {
    if (sessionIds.length > 0) this.deps.sessionsEnded({ userId, sessionIds });
  }

  async profile(caller: Caller): Promise<Profile> {
    const db = await this.deps.db();
    const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL`, [caller.userId]);
    if (!rows[0]) throw new InvalidRefreshTokenError();
    return profileOf(rows[0]);
  }

  async updateProfile(caller: Caller, patch: { firstName?: string | undefined; lastName?: string | undefined; email?: string | null | undefined }): Promise<Profile> {
    const db = await this.deps.db();
    const { rows } = await db.query<UserRow>(
      `UPDATE users SET first_name = COALESCE($2, first_name), last_name = COALESCE($3, last_name),
              email = CASE WHEN $5 THEN $4 ELSE email END
        WHERE id = $1 AND deleted_at IS NULL RETURNING ${USER_COLUMNS}`,
      [caller.userId, patch.firstName ?? null, patch.lastName ?? null, patch.email ?? null, patch.email !== undefined],
    );
    if (!rows[0]) throw new InvalidRefreshTokenError();
    return profileOf(rows[0]);
  }

  /** Sets this session's push token; the same token on another session is moved here. */
  async setPushToken(caller: Caller, pushToken: string | null): Promise<{ pushToken: string | null }> {
    if (!caller.sessionId) throw new ValidationError([{ path: 'headers.authorization', message: 'the access token carries no session' }]);
    const db = await this.deps.db();
    const sessionId = caller.sessionId;
    await db.transaction(async (c) => {
      const { rows } = await c.query(`SELECT id FROM device_sessions WHERE id = $1 AND user_id = $2 AND state = 'active' FOR UPDATE`, [sessionId, caller.userId]);
      if (!rows[0]) throw new InvalidRefreshTokenError();
      await setPushToken(c, sessionId, pushToken);
    });
    return { pushToken };
  }
}
