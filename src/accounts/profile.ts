// The account's profile as the app shows it (read, edit) and the users row it comes from; the session's push token.
import type { Profile } from '../contracts/accounts-messages.js';
import type { Caller, UserRole } from '../contracts/caller.js';
import { ValidationError } from '../errors/app-error.js';
import { InvalidRefreshTokenError } from './account-errors.js';
import type { AccountDeps } from './account-deps.js';
import { setPushToken as storePushToken } from './sessions.js';

export interface UserRow {
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

export const USER_COLUMNS = `id, phone, first_name, last_name, email, pin_hash, role, agency_code, phone_proved_at`;

export const profileOf = (u: UserRow): Profile => ({
  id: u.id,
  phone: u.phone,
  firstName: u.first_name,
  lastName: u.last_name,
  email: u.email,
  role: u.role,
  agency: u.agency_code,
  phoneVerified: u.phone_proved_at !== null,
});

export async function profile(deps: AccountDeps, caller: Caller): Promise<Profile> {
  const db = await deps.db();
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL`, [caller.userId]);
  if (!rows[0]) throw new InvalidRefreshTokenError();
  return profileOf(rows[0]);
}

export async function updateProfile(
  deps: AccountDeps,
  caller: Caller,
  patch: { firstName?: string | undefined; lastName?: string | undefined; email?: string | null | undefined },
): Promise<Profile> {
  const db = await deps.db();
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
export async function setPushToken(deps: AccountDeps, caller: Caller, pushToken: string | null): Promise<{ pushToken: string | null }> {
  if (!caller.sessionId) throw new ValidationError([{ path: 'headers.authorization', message: 'the access token carries no session' }]);
  const db = await deps.db();
  const sessionId = caller.sessionId;
  await db.transaction(async (c) => {
    const { rows } = await c.query(`SELECT id FROM device_sessions WHERE id = $1 AND user_id = $2 AND state = 'active' FOR UPDATE`, [sessionId, caller.userId]);
    if (!rows[0]) throw new InvalidRefreshTokenError();
    await storePushToken(c, sessionId, pushToken);
  });
  return { pushToken };
}
