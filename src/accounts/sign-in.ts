// Signing in and out: a customer's phone and PIN, an agent's directory password, refresh-token rotation, logout.
import { randomUUID } from 'node:crypto';
import type { Caller } from '../contracts/caller.js';
import { errorCode } from '../errors/app-error.js';
import { InvalidCredentialsError, InvalidRefreshTokenError, PhoneNotVerifiedError, TokenIssuingUnavailableError } from './account-errors.js';
import type { AccountDeps } from './account-deps.js';
import { announceEnded, audit } from './account-events.js';
import type { LoginKind } from './auth-watch.js';
import { pendingPinHash } from './one-time-codes.js';
import { attemptPin } from './pin-check.js';
import { profileOf, USER_COLUMNS, type UserRow } from './profile.js';
import { rotateRefreshToken } from './session-refresh.js';
import type { Profile, TokenPair } from '../contracts/accounts-messages.js';
import { endSessions, openSession, tokenPair, type TokenContext } from './sessions.js';

export interface Device {
  readonly deviceModel: string;
  readonly platform: 'android' | 'ios' | 'web';
  readonly pushToken?: string | undefined;
}

function tokenContext(deps: AccountDeps): TokenContext {
  if (!deps.signing) throw new TokenIssuingUnavailableError();
  return { signing: deps.signing, secret: deps.secret, issuer: deps.issuer, audience: deps.audience, policy: deps.sessions };
}

/** A rejection handler for a sign-in: a refused PIN or password is counted (samaconso_login_failures_total), then rethrown. */
export function failedLogin(deps: AccountDeps, kind: LoginKind): (e: unknown) => never {
  return (e) => {
    // By code: the directory's refusal of an agent password is its own class with the same code.
    if (errorCode(e) === 'INVALID_CREDENTIALS') deps.watch?.loginFailed(kind);
    throw e;
  };
}

/** Phone + PIN → tokens. Unknown phone and wrong PIN cost the same bcrypt work and get the same answer. */
export async function login(deps: AccountDeps, input: { phone: string; pin: string } & Device, ip: string): Promise<TokenPair & { user: Profile }> {
  const ctx = tokenContext(deps);
  await deps.limit('login', ip);
  const db = await deps.db();
  const now = deps.clock.now();
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE phone = $1 AND deleted_at IS NULL AND role = 'customer'`, [input.phone]);
  const user = rows[0];
  if (!user) {
    await deps.hasher.verify(input.pin, await deps.hasher.dummy);
    throw new InvalidCredentialsError();
  }
  if (!user.phone_proved_at) {
    // The PIN waits on the registration code: the right one says "verify first", any other "wrong PIN".
    const pending = await pendingPinHash(db, input.phone, now);
    const ok = await deps.hasher.verify(input.pin, pending ?? (await deps.hasher.dummy));
    throw ok && pending ? new PhoneNotVerifiedError() : new InvalidCredentialsError();
  }
  await attemptPin(deps, db, user, input.pin);
  const session = await db.transaction((c) =>
    openSession(c, { userId: user.id, kind: 'customer', deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: deps.sessions }),
  );
  announceEnded(deps, user.id, session.ended);
  audit(deps, 'login', user.id, { sessionId: session.sessionId, deviceModel: input.deviceModel });
  const pair = await tokenPair(ctx, { userId: user.id, role: user.role, agency: user.agency_code, sessionId: session.sessionId }, session.refreshToken, now);
  return { ...pair, user: profileOf(user) };
}

/**
 * An agent (or admin) signs in with the directory's login and password. The user row is created or
 * updated from the directory entry (agency included); its role stays admin once an admin made it so.
 */
export async function agentLogin(deps: AccountDeps, input: { login: string; password: string } & Device, ip: string): Promise<TokenPair & { user: Profile }> {
  const ctx = tokenContext(deps);
  await deps.limit('login', ip);
  const agent = await deps.authenticateAgent(input.login, input.password);
  const db = await deps.db();
  const now = deps.clock.now();
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
    const session = await openSession(c, { userId: user.id, kind: 'agent', deviceModel: input.deviceModel, platform: input.platform, pushToken: input.pushToken ?? null, now, policy: deps.sessions });
    return { user, session };
  });
  announceEnded(deps, user.id, session.ended);
  audit(deps, 'agent_login', user.id, { sessionId: session.sessionId, agency: agent.agency });
  const pair = await tokenPair(ctx, { userId: user.id, role: user.role, agency: user.agency_code, sessionId: session.sessionId }, session.refreshToken, now);
  return { ...pair, user: profileOf(user) };
}

/**
 * Rotates a refresh token (session-refresh.ts): the previous one stays good for the grace window and returns the
 * same new pair; after it, presenting it again revokes the whole session and is audited. Agents' sessions are
 * checked against the directory again when due.
 */
export async function refresh(deps: AccountDeps, refreshToken: string): Promise<TokenPair> {
  const ctx = tokenContext(deps);
  const db = await deps.db();
  const outcome = await rotateRefreshToken({ db, now: deps.clock.now(), secret: deps.secret, policy: deps.sessions, lookupAgent: (login) => deps.lookupAgent(login) }, refreshToken);
  if (outcome.kind === 'refused') {
    if (outcome.userId) announceEnded(deps, outcome.userId, outcome.ended);
    if (outcome.audit) audit(deps, outcome.audit, outcome.userId, { sessionIds: outcome.ended });
    throw new InvalidRefreshTokenError();
  }
  return tokenPair(ctx, { userId: outcome.userId, role: outcome.role, agency: outcome.agency, sessionId: outcome.sessionId }, outcome.next, outcome.issuedAt);
}

/** Ends this session (or all of the caller's) and removes their push tokens. */
export async function logout(deps: AccountDeps, caller: Caller, all: boolean): Promise<{ ended: number }> {
  const db = await deps.db();
  const at = deps.clock.now();
  const ended = await db.transaction((c) =>
    all || !caller.sessionId ? endSessions(c, { userId: caller.userId }, { reason: 'logout_all', at }) : endSessions(c, { sessionIds: [caller.sessionId] }, { reason: 'logout', at }),
  );
  announceEnded(deps, caller.userId, ended);
  audit(deps, all ? 'logout_all' : 'logout', caller.userId, { sessionId: caller.sessionId ?? null });
  return { ended: ended.length };
}
