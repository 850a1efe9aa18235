// The accounts service: registration with SMS proof, PIN login with lockout, rotating refresh tokens,
// logout, profile and push token. Every time comes from the injected clock.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Caller, UserRole } from '../contracts/caller.js';
import type { PgHandle } from '../contracts/postgres.js';
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
import { SmsDeliveryUnknownError } from '../sms/sms-errors.js';
import { checkCode, issueCode, pendingPinHash, type CodePolicy, type PendingRegistration } from './one-time-codes.js';
import type { PinHasher } from './pin-hasher.js';
import type { AuthWatch, LoginKind } from './auth-watch.js';
import { reservePinAttempt, type LockoutPolicy } from './pin-lockout.js';
import { assertStrongPin } from './pin-rules.js';
import { endSessions, hashToken, openSession, setPushToken, successorOf, tokenPair, type SessionPolicy, type TokenContext, type TokenPair } from './sessions.js';
import type { SigningKey } from '../auth/token-keys.js';
import type { LimitedAction } from '../limits/ip-limiter.js';
import type { DirectoryAgent } from '../contracts/directory.js';

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
  /** Per-client-IP limit of a public action; rejects with TOO_MANY_REQUESTS. */
  limit(action: LimitedAction, ip: string): Promise<void>;
  /** Reports an audit write that failed (the operation itself has already succeeded). */
  onAuditError?(error: unknown): void;
}

export interface Profile {
  readonly id: string;
  readonly phone: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly role: UserRole;
  readonly agency: string | null;
  readonly phoneVerified: boolean;
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
      openSession(c, { userId: user.id, deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: this.deps.sessions, ttlMs: this.deps.sessions.refreshTtlMs }),
    );
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
      // Agents are re-checked against the directory at least daily: their sessions do not slide for 30 days.
      const session = await openSession(c, { userId: user.id, deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: this.deps.sessions, ttlMs: this.deps.sessions.agentRefreshTtlMs });
      return { user, session };
    });
    this.audit('agent_login', user.id, { sessionId: session.sessionId, agency: agent.agency });
    const pair = await tokenPair(ctx, { userId: user.id, role: user.role, agency: user.agency_code, sessionId: session.sessionId }, session.refreshToken, now);
    return { ...pair, user: profileOf(user) };
  }

  /**
   * Rotates a refresh token. The previous one stays good for the grace window and returns the same new
   * pair; after it, presenting it again revokes the whole session and is audited.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const ctx = this.tokenContext();
    const db = await this.deps.db();
    const now = this.deps.clock.now();
    const presented = hashToken(refreshToken);
    type Row = { id: string; user_id: string; family: string; refresh_hash: Buffer; previous_hash: Buffer | null; previous_valid_until: Date | null; rotated_at: Date; expires_at: Date; state: string; role: UserRole; agency_code: string | null };
    const outcome = await db.transaction(async (c) => {
      const { rows } = await c.query<Row>(
        `SELECT s.id, s.user_id, s.family, s.refresh_hash, s.previous_hash, s.previous_valid_until, s.rotated_at, s.expires_at, s.state, u.role, u.agency_code
           FROM device_sessions s JOIN users u ON u.id = s.user_id
          WHERE (s.refresh_hash = $1 OR s.previous_hash = $1) AND u.deleted_at IS NULL FOR UPDATE OF s`,
        [presented],
      );
      const s = rows[0];
      if (!s) {
        // Any older token of a chain (rotated away from more than one step back) is reuse too.
        const used = await c.query<{ session_id: string; user_id: string; family: string }>(
          `SELECT u.session_id, s.user_id, s.family FROM used_refresh_tokens u JOIN device_sessions s ON s.id = u.session_id WHERE u.token_hash = $1`,
          [presented],
        );
        const hit = used.rows[0];
        if (!hit) return { kind: 'invalid' as const };
        await c.query(`UPDATE device_sessions SET state = 'revoked', ended_reason = 'refresh_token_reused', push_token = NULL WHERE family = $1 AND state = 'active'`, [hit.family]);
        return { kind: 'reused' as const, s: { id: hit.session_id, user_id: hit.user_id } };
      }
      if (s.state !== 'active') return { kind: 'invalid' as const };
      if (s.refresh_hash.equals(presented)) {
        if (s.expires_at.getTime() <= now) return { kind: 'invalid' as const }; // merely expired: the push token stays
        const next = successorOf(this.deps.secret, refreshToken);
        const ttl = s.role === 'customer' ? this.deps.sessions.refreshTtlMs : this.deps.sessions.agentRefreshTtlMs;
        if (s.previous_hash) {
          await c.query(`INSERT INTO used_refresh_tokens (token_hash, session_id, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [s.previous_hash, s.id, new Date(now)]);
        }
        await c.query(
          `UPDATE device_sessions SET refresh_hash = $2, previous_hash = $3, previous_valid_until = $4, rotated_at = $5, expires_at = $6, last_seen_at = $5 WHERE id = $1`,
          [s.id, hashToken(next), presented, new Date(now + this.deps.sessions.graceMs), new Date(now), new Date(now + ttl)],
        );
        return { kind: 'rotated' as const, s, next, issuedAt: now };
      }
      // The previous token: within the grace window, the same pair again (its successor is derived, not stored).
      if (s.previous_valid_until && s.previous_valid_until.getTime() > now) {
        return { kind: 'rotated' as const, s, next: successorOf(this.deps.secret, refreshToken), issuedAt: s.rotated_at.getTime() };
      }
      // The whole family goes: the reused token and every successor it had.
      await c.query(`UPDATE device_sessions SET state = 'revoked', ended_reason = 'refresh_token_reused', push_token = NULL WHERE family = $1 AND state = 'active'`, [s.family]);
      return { kind: 'reused' as const, s };
    });
    if (outcome.kind === 'invalid') throw new InvalidRefreshTokenError();
    if (outcome.kind === 'reused') {
      this.audit('refresh_token_reused', outcome.s.user_id, { sessionId: outcome.s.id });
      throw new InvalidRefreshTokenError();
    }
    const { s } = outcome;
    return tokenPair(ctx, { userId: s.user_id, role: s.role, agency: s.agency_code, sessionId: s.id }, outcome.next, outcome.issuedAt);
  }

  /** Ends this session (or all of the caller's) and removes their push tokens. */
  async logout(caller: Caller, all: boolean): Promise<{ ended: number }> {
    const db = await this.deps.db();
    const ended = await db.transaction((c) =>
      all || !caller.sessionId ? endSessions(c, { userId: caller.userId }, 'logout_all') : endSessions(c, { sessionIds: [caller.sessionId] }, 'logout'),
    );
    this.audit(all ? 'logout_all' : 'logout', caller.userId, { sessionId: caller.sessionId ?? null });
    return { ended };
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
    const userId = await db.transaction(async (c) => {
      const { rows } = await c.query<{ id: string }>(`UPDATE users SET pin_hash = $2 WHERE phone = $1 AND deleted_at IS NULL RETURNING id`, [input.phone, pinHash]);
      const id = rows[0]?.id ?? null;
      if (id) {
        await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [id]);
        await endSessions(c, { userId: id }, 'pin_reset');
      }
      return id;
    });
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
    await db.transaction(async (c) => {
      await c.query(`UPDATE users SET pin_hash = $2 WHERE id = $1`, [caller.userId, pinHash]);
      await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [caller.userId]);
      await endSessions(c, { userId: caller.userId, ...(caller.sessionId ? { exceptSessionId: caller.sessionId } : {}) }, 'pin_changed');
    });
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
    await db.transaction(async (c) => {
      const { rows } = await c.query<{ phone: string | null }>(`SELECT phone FROM users WHERE id = $1 FOR UPDATE`, [caller.userId]);
      const phone = rows[0]?.phone;
      await endSessions(c, { userId: caller.userId }, 'account_deleted');
      await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [caller.userId]);
      if (phone) await c.query(`DELETE FROM one_time_codes WHERE phone = $1`, [phone]);
      await c.query(
        `UPDATE users SET phone = NULL, first_name = NULL, last_name = NULL, email = NULL, pin_hash = NULL, deleted_at = $2 WHERE id = $1`,
        [caller.userId, new Date(this.deps.clock.now())],
      );
    });
    this.audit('account_deleted', caller.userId, {});
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
