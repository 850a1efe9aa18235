// The accounts service: registration with SMS proof, PIN login with lockout, rotating refresh tokens,
// logout, profile and push token. Every time comes from the injected clock.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Caller, UserRole } from '../contracts/caller.js';
import type { PgHandle } from '../contracts/postgres.js';
import { ValidationError } from '../errors/app-error.js';
import {
  AccountLockedError,
  InvalidCodeError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  PhoneAlreadyRegisteredError,
  PhoneNotVerifiedError,
  TokenIssuingUnavailableError,
} from './account-errors.js';
import { checkCode, issueCode, type CodePolicy } from './one-time-codes.js';
import type { PinHasher } from './pin-hasher.js';
import { endSessions, hashToken, openSession, setPushToken, successorOf, tokenPair, type SessionPolicy, type TokenContext, type TokenPair } from './sessions.js';
import type { SigningKey } from '../auth/token-keys.js';
import type { LimitedAction } from '../limits/ip-limiter.js';
import type { DirectoryAgent } from '../contracts/directory.js';

export interface LockoutPolicy {
  /** Wrong PINs before the account locks. @defaultValue 5 */
  readonly freeFailures: number;
  /** First lock; doubles with every further failure. @defaultValue 60 s */
  readonly baseLockMs: number;
  /** @defaultValue 1 hour */
  readonly maxLockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { freeFailures: 5, baseLockMs: 60_000, maxLockMs: 3_600_000 };

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

  private sendCode(db: PgHandle, phone: string, purpose: 'verify_phone' | 'pin_reset'): Promise<void> {
    return issueCode(db, { phone, purpose, now: this.deps.clock.now(), secret: this.deps.secret, policy: this.deps.codes }, (code) =>
      this.deps.sendSms(phone, `SamaConso : votre code est ${code}. Il expire dans ${Math.round(this.deps.codes.ttlMs / 60_000)} minutes.`),
    );
  }

  /** Stores the account unproved (or refreshes an unproved one) and sends a code by SMS. */
  async register(input: { phone: string; firstName: string; lastName: string; pin: string }, ip: string): Promise<{ phone: string; codeExpiresInSeconds: number }> {
    await this.deps.limit('register', ip);
    const db = await this.deps.db();
    const pinHash = await this.deps.hasher.hash(input.pin);
    const now = new Date(this.deps.clock.now());
    await db.transaction(async (c) => {
      const { rows } = await c.query<{ id: string; phone_proved_at: Date | null }>(`SELECT id, phone_proved_at FROM users WHERE phone = $1 FOR UPDATE`, [input.phone]);
      const existing = rows[0];
      if (existing?.phone_proved_at) throw new PhoneAlreadyRegisteredError();
      if (existing) {
        await c.query(`UPDATE users SET first_name = $2, last_name = $3, pin_hash = $4 WHERE id = $1`, [existing.id, input.firstName, input.lastName, pinHash]);
      } else {
        await c.query(`INSERT INTO users (id, phone, first_name, last_name, pin_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, 'customer', $6)`, [
          randomUUID(),
          input.phone,
          input.firstName,
          input.lastName,
          pinHash,
          now,
        ]);
      }
    });
    await this.sendCode(db, input.phone, 'verify_phone');
    return { phone: input.phone, codeExpiresInSeconds: Math.round(this.deps.codes.ttlMs / 1000) };
  }

  /** Proves the phone with the code: the account can log in from now on. */
  async verifyPhone(input: { phone: string; code: string }): Promise<{ verified: true }> {
    const db = await this.deps.db();
    const now = this.deps.clock.now();
    const result = await db.transaction(async (c) => {
      const check = await checkCode(c, { ...input, purpose: 'verify_phone', now, secret: this.deps.secret, policy: this.deps.codes });
      if (check.ok) {
        const { rows } = await c.query<{ id: string }>(`UPDATE users SET phone_proved_at = $2 WHERE phone = $1 AND deleted_at IS NULL RETURNING id`, [input.phone, new Date(now)]);
        this.audit('phone_verified', rows[0]?.id ?? null, {});
      }
      return check;
    });
    if (!result.ok) throw new InvalidCodeError(result.attemptsLeft);
    return { verified: true };
  }

  /** Phone + PIN → tokens. Unknown phone and wrong PIN cost the same bcrypt work and get the same answer. */
  async login(input: { phone: string; pin: string } & Device, ip: string): Promise<TokenPair & { user: Profile }> {
    const ctx = this.tokenContext();
    await this.deps.limit('login', ip);
    const db = await this.deps.db();
    const now = this.deps.clock.now();
    const { rows } = await db.query<UserRow & { failures: number | null; locked_until: Date | null }>(
      `SELECT ${USER_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')}, f.failures, f.locked_until
         FROM users u LEFT JOIN login_failures f ON f.user_id = u.id
        WHERE u.phone = $1 AND u.deleted_at IS NULL AND u.role = 'customer'`,
      [input.phone],
    );
    const user = rows[0];
    if (!user || !user.pin_hash) {
      await this.deps.hasher.verify(input.pin, await this.deps.hasher.dummy);
      throw new InvalidCredentialsError();
    }
    if (user.locked_until && user.locked_until.getTime() > now) throw new AccountLockedError(user.locked_until.getTime() - now);
    if (!(await this.deps.hasher.verify(input.pin, user.pin_hash))) {
      await this.recordFailure(db, user.id, now);
      throw new InvalidCredentialsError();
    }
    if (!user.phone_proved_at) throw new PhoneNotVerifiedError();
    const session = await db.transaction(async (c) => {
      await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [user.id]);
      return openSession(c, { userId: user.id, deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: this.deps.sessions });
    });
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
      const session = await openSession(c, { userId: user.id, deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: this.deps.sessions });
      return { user, session };
    });
    this.audit('agent_login', user.id, { sessionId: session.sessionId, agency: agent.agency });
    const pair = await tokenPair(ctx, { userId: user.id, role: user.role, agency: user.agency_code, sessionId: session.sessionId }, session.refreshToken, now);
    return { ...pair, user: profileOf(user) };
  }

  private async recordFailure(db: PgHandle, userId: string, now: number): Promise<void> {
    const { freeFailures, baseLockMs, maxLockMs } = this.deps.lockout;
    await db.query(
      `INSERT INTO login_failures (user_id, failures, locked_until, last_failure_at) VALUES ($1, 1, NULL, $2)
       ON CONFLICT (user_id) DO UPDATE SET failures = login_failures.failures + 1, last_failure_at = $2,
         locked_until = CASE WHEN login_failures.failures + 1 >= $3
           THEN $2::timestamptz + make_interval(secs => LEAST($5::float8, $4::float8 * power(2, login_failures.failures + 1 - $3)) / 1000)
           ELSE NULL END`,
      [userId, new Date(now), freeFailures, baseLockMs, maxLockMs],
    );
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
      if (!s || s.state !== 'active') return { kind: 'invalid' as const };
      if (s.refresh_hash.equals(presented)) {
        if (s.expires_at.getTime() <= now) return { kind: 'invalid' as const }; // merely expired: the push token stays
        const next = successorOf(this.deps.secret, refreshToken);
        await c.query(
          `UPDATE device_sessions SET refresh_hash = $2, previous_hash = $3, previous_valid_until = $4, rotated_at = $5, expires_at = $6, last_seen_at = $5 WHERE id = $1`,
          [s.id, hashToken(next), presented, new Date(now + this.deps.sessions.graceMs), new Date(now), new Date(now + this.deps.sessions.refreshTtlMs)],
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

  /** Sends a reset code when the phone has a verified account; answers the same either way. */
  async requestPinReset(input: { phone: string }, ip: string): Promise<{ phone: string; codeExpiresInSeconds: number }> {
    await this.deps.limit('pin-reset', ip);
    const db = await this.deps.db();
    const { rows } = await db.query(`SELECT 1 FROM users WHERE phone = $1 AND deleted_at IS NULL AND phone_proved_at IS NOT NULL AND role = 'customer'`, [input.phone]);
    if (rows[0]) await this.sendCode(db, input.phone, 'pin_reset');
    return { phone: input.phone, codeExpiresInSeconds: Math.round(this.deps.codes.ttlMs / 1000) };
  }

  /** Code + new PIN: the PIN changes, the lockout clears, and every session ends. */
  async confirmPinReset(input: { phone: string; code: string; newPin: string }): Promise<{ reset: true }> {
    const db = await this.deps.db();
    const pinHash = await this.deps.hasher.hash(input.newPin);
    const now = this.deps.clock.now();
    const result = await db.transaction(async (c) => {
      const check = await checkCode(c, { phone: input.phone, code: input.code, purpose: 'pin_reset', now, secret: this.deps.secret, policy: this.deps.codes });
      if (!check.ok) return { check, userId: null };
      const { rows } = await c.query<{ id: string }>(`UPDATE users SET pin_hash = $2 WHERE phone = $1 AND deleted_at IS NULL RETURNING id`, [input.phone, pinHash]);
      const userId = rows[0]?.id ?? null;
      if (userId) {
        await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [userId]);
        await endSessions(c, { userId }, 'pin_reset');
      }
      return { check, userId };
    });
    if (!result.check.ok) throw new InvalidCodeError(result.check.attemptsLeft);
    this.audit('pin_reset', result.userId, {});
    return { reset: true };
  }

  /** Verifies the caller's PIN like a login does (a wrong one counts towards the lockout). */
  private async verifyOwnPin(db: PgHandle, userId: string, pin: string): Promise<void> {
    const now = this.deps.clock.now();
    const { rows } = await db.query<{ pin_hash: string | null; locked_until: Date | null }>(
      `SELECT u.pin_hash, f.locked_until FROM users u LEFT JOIN login_failures f ON f.user_id = u.id WHERE u.id = $1 AND u.deleted_at IS NULL`,
      [userId],
    );
    const row = rows[0];
    if (!row?.pin_hash) {
      await this.deps.hasher.verify(pin, await this.deps.hasher.dummy);
      throw new InvalidCredentialsError();
    }
    if (row.locked_until && row.locked_until.getTime() > now) throw new AccountLockedError(row.locked_until.getTime() - now);
    if (!(await this.deps.hasher.verify(pin, row.pin_hash))) {
      await this.recordFailure(db, userId, now);
      throw new InvalidCredentialsError();
    }
  }

  /** Current PIN + new PIN; every other session ends (this device stays signed in). */
  async changePin(caller: Caller, input: { currentPin: string; newPin: string }): Promise<{ changed: true }> {
    const db = await this.deps.db();
    await this.verifyOwnPin(db, caller.userId, input.currentPin);
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
