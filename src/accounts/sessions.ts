// Device sessions and their tokens: a short JWT access token and an opaque refresh token, stored hashed,
// found by its hash, rotated at every refresh. The successor of a refresh token is an HMAC of it, so a
// retried refresh within the grace window gets the very same new token without storing it.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { PoolClient } from 'pg';
import type { SigningKey } from './token-keys.js';
import type { UserRole } from '../contracts/caller.js';
import type { TokenPair } from '../contracts/accounts-messages.js';
import { sessionExpiry, sessionLimit, type SessionKind, type SessionPolicy } from '../domain/session-policy.js';

export interface TokenContext {
  readonly signing: SigningKey;
  readonly secret: Buffer;
  readonly issuer: string;
  readonly audience: string;
  readonly policy: SessionPolicy;
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();
export const successorOf = (secret: Buffer, token: string): string => createHmac('sha256', secret).update(`refresh:${token}`).digest('base64url');

/** Signs an access token; issued at `issuedAtMs` so a replayed refresh re-signs the same claims. */
export async function accessToken(
  ctx: TokenContext,
  claims: { userId: string; role: UserRole; agency: string | null; sessionId: string },
  issuedAtMs: number,
): Promise<string> {
  const iat = Math.floor(issuedAtMs / 1000);
  return new SignJWT({ role: claims.role, agency: claims.agency, sid: claims.sessionId })
    .setProtectedHeader({ alg: ctx.signing.alg, kid: ctx.signing.kid, typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ctx.issuer)
    .setAudience(ctx.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.floor(ctx.policy.accessTtlMs / 1000))
    .setJti(`${claims.sessionId}.${iat}`)
    .sign(ctx.signing.key);
}

export async function tokenPair(ctx: TokenContext, claims: Parameters<typeof accessToken>[1], refreshToken: string, issuedAtMs: number): Promise<TokenPair> {
  return { accessToken: await accessToken(ctx, claims, issuedAtMs), refreshToken, tokenType: 'Bearer', expiresIn: Math.floor(ctx.policy.accessTtlMs / 1000) };
}

/** How a session ends: why, when (the injected clock), and whether it was revoked (refresh-token reuse). */
export interface SessionEnd {
  readonly reason: string;
  readonly at: number;
  /** @defaultValue 'ended' */
  readonly state?: 'ended' | 'revoked';
}

/**
 * Ends sessions; their push tokens go with them (logout, PIN change, deletion, replaced device). Returns the ids of
 * the sessions it ended, which the caller announces once the transaction has committed (their access tokens are
 * refused from then on, see session-revocations.ts).
 */
export async function endSessions(c: PoolClient, where: { userId: string; exceptSessionId?: string } | { sessionIds: string[] } | { family: string }, end: SessionEnd): Promise<string[]> {
  const set = `state = $2, ended_reason = $3, ended_at = $4, push_token = NULL`;
  const params = [end.state ?? 'ended', end.reason, new Date(end.at)];
  const res =
    'sessionIds' in where
      ? await c.query<{ id: string }>(`UPDATE device_sessions SET ${set} WHERE id = ANY($1::uuid[]) AND state = 'active' RETURNING id`, [where.sessionIds, ...params])
      : 'family' in where
        ? await c.query<{ id: string }>(`UPDATE device_sessions SET ${set} WHERE family = $1 AND state = 'active' RETURNING id`, [where.family, ...params])
        : await c.query<{ id: string }>(
            `UPDATE device_sessions SET ${set} WHERE user_id = $1 AND state = 'active' AND ($5::uuid IS NULL OR id <> $5::uuid) RETURNING id`,
            [where.userId, ...params, where.exceptSessionId ?? null],
          );
  return res.rows.map((r) => r.id);
}

/** Moves a push token to this session: one token belongs to one session, never two. */
export async function setPushToken(c: PoolClient, sessionId: string, pushToken: string | null): Promise<void> {
  if (pushToken) {
    // Two sessions claiming one token at once take turns here rather than collide on the unique index.
    await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [pushToken]);
    await c.query(`UPDATE device_sessions SET push_token = NULL WHERE push_token = $1 AND id <> $2`, [pushToken, sessionId]);
  }
  await c.query(`UPDATE device_sessions SET push_token = $2 WHERE id = $1`, [sessionId, pushToken]);
}

/**
 * Opens a session for a device; the oldest active one ends when the user would have more than allowed.
 * Returns the session id, its first refresh token, and the ids of the sessions it ended.
 */
export async function openSession(
  c: PoolClient,
  args: { userId: string; kind: SessionKind; deviceModel: string; platform: string; pushToken: string | null; now: number; policy: SessionPolicy },
): Promise<{ sessionId: string; refreshToken: string; ended: string[] }> {
  // Serialises logins of one user so two devices cannot both slip under the limit.
  await c.query(`SELECT id FROM users WHERE id = $1 FOR UPDATE`, [args.userId]);
  // Only live sessions count, least recently used first: an expired one (which keeps its push token, so the
  // customer still hears of outages) never pushes out the device in daily use.
  const active = await c.query<{ id: string }>(
    `SELECT id FROM device_sessions WHERE user_id = $1 AND state = 'active' AND expires_at > $2 ORDER BY last_seen_at ASC, id`,
    [args.userId, new Date(args.now)],
  );
  const excess = active.rows.length - (sessionLimit(args.policy, args.kind) - 1);
  const ended = excess > 0 ? await endSessions(c, { sessionIds: active.rows.slice(0, excess).map((r) => r.id) }, { reason: 'replaced_by_new_device', at: args.now }) : [];
  const sessionId = randomUUID();
  const refreshToken = randomBytes(32).toString('base64url');
  const now = new Date(args.now);
  const absolute = args.now + (args.kind === 'customer' ? args.policy.customerMaxMs : args.policy.agentMaxMs);
  // An agent has just been checked: the directory authenticated the login.
  await c.query(
    `INSERT INTO device_sessions (id, user_id, family, device_model, platform, refresh_hash, rotated_at, expires_at, absolute_expires_at, directory_checked_at, created_at, last_seen_at, state)
     VALUES ($1, $2, $1, $3, $4, $5, $6, $7, $8, $9, $6, $6, 'active')`,
    [sessionId, args.userId, args.deviceModel, args.platform, hashToken(refreshToken), now, new Date(sessionExpiry(args.policy, args.kind, args.now, absolute)), new Date(absolute), args.kind === 'agent' ? now : null],
  );
  if (args.pushToken) await setPushToken(c, sessionId, args.pushToken);
  return { sessionId, refreshToken, ended };
}
