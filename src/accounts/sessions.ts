// Device sessions and their tokens: a short JWT access token and an opaque refresh token, stored hashed,
// found by its hash, rotated at every refresh. The successor of a refresh token is an HMAC of it, so a
// retried refresh within the grace window gets the very same new token without storing it.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { PoolClient } from 'pg';
import type { SigningKey } from '../auth/token-keys.js';
import type { UserRole } from '../contracts/caller.js';

export interface SessionPolicy {
  /** @defaultValue 15 minutes */
  readonly accessTtlMs: number;
  /** Sliding: every refresh pushes the expiry this far. @defaultValue 30 days */
  readonly refreshTtlMs: number;
  /** How long the previous refresh token still answers with the same new pair. @defaultValue 10 s */
  readonly graceMs: number;
  /** Agents and admins: short, so one removed from the directory is out within a day. @defaultValue 12 hours */
  readonly agentRefreshTtlMs: number;
  /** @defaultValue 2 */
  readonly maxActiveSessions: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  accessTtlMs: 15 * 60_000,
  refreshTtlMs: 30 * 86_400_000,
  agentRefreshTtlMs: 12 * 3_600_000,
  graceMs: 10_000,
  maxActiveSessions: 2,
};

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
}

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

/** Ends sessions; their push tokens go with them (logout, PIN change, deletion, replaced device). */
export async function endSessions(c: PoolClient, where: { userId: string; exceptSessionId?: string } | { sessionIds: string[] }, reason: string, state: 'ended' | 'revoked' = 'ended'): Promise<number> {
  const res =
    'sessionIds' in where
      ? await c.query(`UPDATE device_sessions SET state = $2, ended_reason = $3, push_token = NULL WHERE id = ANY($1::uuid[]) AND state = 'active'`, [
          where.sessionIds,
          state,
          reason,
        ])
      : await c.query(
          `UPDATE device_sessions SET state = $3, ended_reason = $4, push_token = NULL
            WHERE user_id = $1 AND state = 'active' AND ($2::uuid IS NULL OR id <> $2::uuid)`,
          [where.userId, where.exceptSessionId ?? null, state, reason],
        );
  return res.rowCount ?? 0;
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
 * Returns the session id and its first refresh token.
 */
export async function openSession(
  c: PoolClient,
  args: { userId: string; deviceModel: string; platform: string; pushToken: string | null; now: number; policy: SessionPolicy; ttlMs: number },
): Promise<{ sessionId: string; refreshToken: string }> {
  // Serialises logins of one user so two devices cannot both slip under the limit.
  await c.query(`SELECT id FROM users WHERE id = $1 FOR UPDATE`, [args.userId]);
  // Only live sessions count, least recently used first: an expired one (which keeps its push token, so the
  // customer still hears of outages) never pushes out the device in daily use.
  const active = await c.query<{ id: string }>(
    `SELECT id FROM device_sessions WHERE user_id = $1 AND state = 'active' AND expires_at > $2 ORDER BY last_seen_at ASC, id`,
    [args.userId, new Date(args.now)],
  );
  const excess = active.rows.length - (args.policy.maxActiveSessions - 1);
  if (excess > 0) await endSessions(c, { sessionIds: active.rows.slice(0, excess).map((r) => r.id) }, 'replaced_by_new_device');
  const sessionId = randomUUID();
  const refreshToken = randomBytes(32).toString('base64url');
  const now = new Date(args.now);
  await c.query(
    `INSERT INTO device_sessions (id, user_id, family, device_model, platform, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
     VALUES ($1, $2, $1, $3, $4, $5, $6, $7, $6, $6, 'active')`,
    [sessionId, args.userId, args.deviceModel, args.platform, hashToken(refreshToken), now, new Date(args.now + args.ttlMs)],
  );
  if (args.pushToken) await setPushToken(c, sessionId, args.pushToken);
  return { sessionId, refreshToken };
}
