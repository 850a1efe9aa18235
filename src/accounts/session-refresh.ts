// Rotating a refresh token: the previous token stays good for a short grace and returns the same new pair; past it,
// presenting it again revokes the whole family. A customer's session slides within its absolute cap; an agent's
// (or admin's) never slides, and is checked against the directory again once the last check is older than the
// recheck interval: an entry that is gone ends the session, a changed agency goes into the new access token, and an
// unreachable directory is tolerated for a grace past the last successful check, then refused (fail closed).
import type { UserRole } from '../contracts/caller.js';
import type { DirectoryAgent } from '../contracts/directory-messages.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { DirectoryUnavailableError } from '../adapters/directory/directory-errors.js';
import { InvalidRefreshTokenError } from './account-errors.js';
import { sessionExpiry, type SessionPolicy } from '../domain/session-policy.js';
import { endSessions, hashToken, successorOf } from './sessions.js';

export interface RefreshDeps {
  readonly db: PgHandle;
  readonly now: number;
  readonly secret: Buffer;
  readonly policy: SessionPolicy;
  /** The agent's entry now (null: no longer an agent there); rejects with DIRECTORY_UNAVAILABLE. */
  lookupAgent(login: string): Promise<DirectoryAgent | null>;
}

/** A rotated (or replayed) session: what the new access token says and the refresh token that goes with it. */
export interface Rotated {
  readonly kind: 'rotated';
  readonly userId: string;
  readonly sessionId: string;
  readonly role: UserRole;
  readonly agency: string | null;
  readonly next: string;
  readonly issuedAt: number;
}

/** The refresh ended sessions (reuse, or the directory no longer has the agent): the caller announces them. */
export interface Refused {
  readonly kind: 'refused';
  readonly userId: string | null;
  readonly ended: string[];
  readonly audit: 'refresh_token_reused' | 'directory_entry_gone' | null;
}

/** The directory's answer for an agent whose session is due a check. */
type DirectoryCheck = { kind: 'found'; agent: DirectoryAgent } | { kind: 'gone' } | { kind: 'unreachable'; error: DirectoryUnavailableError };

/** Asks the directory for the agent's entry now; a login-less agent row has no entry to find. */
async function checkDirectory(d: RefreshDeps, login: string | null): Promise<DirectoryCheck> {
  if (!login) return { kind: 'gone' };
  try {
    const agent = await d.lookupAgent(login);
    return agent ? { kind: 'found', agent } : { kind: 'gone' };
  } catch (e) {
    if (e instanceof DirectoryUnavailableError) return { kind: 'unreachable', error: e };
    throw e;
  }
}

type Row = {
  id: string;
  user_id: string;
  family: string;
  refresh_hash: Buffer;
  previous_valid_until: Date | null;
  previous_hash: Buffer | null;
  rotated_at: Date;
  expires_at: Date;
  absolute_expires_at: Date;
  directory_checked_at: Date | null;
  state: string;
  role: UserRole;
  agency_code: string | null;
  ldap_login: string | null;
};

/**
 * What one attempt found: besides a rotation or a refusal, an invalid token, a directory that stayed unreachable past
 * the grace, or an agent's session due a directory check (made outside the transaction before the second attempt).
 */
type Attempt =
  | Rotated
  | Refused
  | { kind: 'invalid' }
  | { kind: 'unavailable'; error: DirectoryUnavailableError }
  | { kind: 'check-due'; login: string | null };

/**
 * Rotates the presented refresh token; throws INVALID_REFRESH_TOKEN or DIRECTORY_UNAVAILABLE, or returns what ended.
 * One transaction in the common case; an agent's session due a directory check takes a second one, after the
 * directory answered outside any transaction (it may take seconds).
 */
export async function rotateRefreshToken(d: RefreshDeps, refreshToken: string): Promise<Rotated | Refused> {
  const first = await rotate(d, refreshToken, undefined);
  const outcome = first.kind === 'check-due' ? await rotate(d, refreshToken, await checkDirectory(d, first.login)) : first;
  switch (outcome.kind) {
    case 'invalid':
      throw new InvalidRefreshTokenError();
    case 'unavailable':
      throw outcome.error;
    case 'check-due':
      throw new Error('a directory check was due although one was just made'); // rotate() with a check never asks again
    default:
      return outcome;
  }
}

/** One attempt in one transaction; `check` is the directory's answer when this session was found due one. */
function rotate(d: RefreshDeps, refreshToken: string, check: DirectoryCheck | undefined): Promise<Attempt> {
  const { now, policy } = d;
  const presented = hashToken(refreshToken);
  return d.db.transaction(async (c): Promise<Attempt> => {
    const { rows } = await c.query<Row>(
      `SELECT s.id, s.user_id, s.family, s.refresh_hash, s.previous_hash, s.previous_valid_until, s.rotated_at, s.expires_at, s.absolute_expires_at,
              s.directory_checked_at, s.state, u.role, u.agency_code, u.ldap_login
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
      if (!hit) return { kind: 'invalid' };
      const ended = await endSessions(c, { family: hit.family }, { reason: 'refresh_token_reused', at: now, state: 'revoked' });
      return { kind: 'refused', userId: hit.user_id, ended, audit: 'refresh_token_reused' };
    }
    if (s.state !== 'active') return { kind: 'invalid' };
    if (s.refresh_hash.equals(presented)) {
      if (s.expires_at.getTime() <= now) return { kind: 'invalid' }; // merely expired: the push token stays
      let agency = s.agency_code;
      let checkedAt = s.directory_checked_at;
      if (s.role !== 'customer' && !check && now - (checkedAt?.getTime() ?? 0) >= policy.directoryRecheckMs) return { kind: 'check-due', login: s.ldap_login };
      if (s.role !== 'customer' && check) {
        if (check.kind === 'gone') {
          const ended = await endSessions(c, { sessionIds: [s.id] }, { reason: 'directory_entry_gone', at: now });
          return { kind: 'refused', userId: s.user_id, ended, audit: 'directory_entry_gone' };
        }
        if (check.kind === 'unreachable') {
          // Fail closed once the last successful check is older than the grace; nothing changes, the token stays good.
          if (now - (s.directory_checked_at?.getTime() ?? 0) >= policy.directoryGraceMs) return { kind: 'unavailable', error: check.error };
        } else {
          const a = check.agent;
          await c.query(`INSERT INTO agencies (code, name) VALUES ($1, $1) ON CONFLICT (code) DO NOTHING`, [a.agency]);
          await c.query(`UPDATE users SET agency_code = $2, first_name = $3, email = $4 WHERE id = $1`, [s.user_id, a.agency, a.displayName, a.email]);
          agency = a.agency;
          checkedAt = new Date(now);
        }
      }
      const next = successorOf(d.secret, refreshToken);
      if (s.previous_hash) {
        await c.query(`INSERT INTO used_refresh_tokens (token_hash, session_id, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [s.previous_hash, s.id, new Date(now)]);
      }
      const expiresAt = sessionExpiry(policy, s.role === 'customer' ? 'customer' : 'agent', now, s.absolute_expires_at.getTime());
      await c.query(
        `UPDATE device_sessions SET refresh_hash = $2, previous_hash = $3, previous_valid_until = $4, rotated_at = $5, expires_at = $6, last_seen_at = $5,
                directory_checked_at = $7 WHERE id = $1`,
        [s.id, hashToken(next), presented, new Date(now + policy.graceMs), new Date(now), new Date(expiresAt), checkedAt],
      );
      return { kind: 'rotated', userId: s.user_id, sessionId: s.id, role: s.role, agency, next, issuedAt: now };
    }
    // The previous token: within the grace window, the same pair again (its successor is derived, not stored).
    if (s.previous_valid_until && s.previous_valid_until.getTime() > now) {
      return { kind: 'rotated', userId: s.user_id, sessionId: s.id, role: s.role, agency: s.agency_code, next: successorOf(d.secret, refreshToken), issuedAt: s.rotated_at.getTime() };
    }
    // The whole family goes: the reused token and every successor it had.
    const ended = await endSessions(c, { family: s.family }, { reason: 'refresh_token_reused', at: now, state: 'revoked' });
    return { kind: 'refused', userId: s.user_id, ended, audit: 'refresh_token_reused' };
  });
}
