// Who is calling: verifies bearer JWTs against a JWKS (key chosen by kid) and checks the route's roles.
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ForbiddenError, UnauthenticatedError } from './http-errors.js';

import { USER_ROLES, type Caller, type UserRole } from '../src/contracts/caller.js';

export { USER_ROLES, type Caller, type UserRole };

/** Who a route may serve: anyone, or callers holding one of the roles. */
export type RouteAuth = 'public' | readonly UserRole[];

export interface TokenVerifier {
  /** Resolves with the caller, or rejects with UnauthenticatedError. */
  verify(token: string): Promise<Caller>;
}

/** How far a token's expiry may be past on our clock and still pass (seconds). */
export const TOKEN_CLOCK_TOLERANCE_S = 5;

/** Only asymmetric algorithms: a verifying process must never hold a key that can sign. */
export const TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const;

const claimsSchema = z
  .object({
    // Every user id is a UUID: a token naming anything else is refused here, not by a database cast later.
    sub: z.uuid(),
    role: z.enum(USER_ROLES),
    agency: z.string().min(1).nullable().default(null),
    sid: z.string().min(1).optional(),
  })
  // An agent's scope is their agency: a token without one must not pass as "all agencies".
  .refine((c) => c.role !== 'agent' || c.agency !== null, { message: 'an agent token needs an agency' });

/** `now` is the injected clock (milliseconds): expiry is judged on the same time the tokens were issued on. */
export function createTokenVerifier(options: { jwks: JSONWebKeySet; issuer: string; audience: string; now?: () => number }): TokenVerifier {
  const keySet = createLocalJWKSet(options.jwks);
  // Keys rotate by kid: a token that names no key is refused even when the set holds a single one.
  const getKey: JWTVerifyGetKey = (header, token) => {
    if (!header.kid) throw new UnauthenticatedError('invalid', 'The token names no signing key (kid).');
    return keySet(header, token);
  };
  return {
    async verify(token) {
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [...TOKEN_ALGORITHMS],
          requiredClaims: ['exp', 'sub'],
          clockTolerance: TOKEN_CLOCK_TOLERANCE_S,
          ...(options.now ? { currentDate: new Date(options.now()) } : {}),
        }));
      } catch (e) {
        if (e instanceof UnauthenticatedError) throw e;
        if (e instanceof joseErrors.JOSEError) throw new UnauthenticatedError('invalid', tokenFailure(e), { cause: e });
        throw e;
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw new UnauthenticatedError('invalid', 'The token claims are not valid.');
      const { sub, role, agency, sid } = claims.data;
      const exp = (payload as { exp?: unknown }).exp;
      return { userId: sub, role, agency, ...(sid ? { sessionId: sid } : {}), ...(typeof exp === 'number' ? { expiresAt: exp * 1000 } : {}) };
    },
  };
}

/**
 * A verifier that also refuses tokens of sessions that have ended (logout, PIN change or reset, deletion) before
 * they expire: `isEnded` answers from the instance's memory of ended sessions, or PostgreSQL while that is not
 * trusted (src/accounts/session-revocations.ts). Tokens without a session id are not session tokens: unaffected.
 */
export function refusingEndedSessions(inner: TokenVerifier, isEnded: (sessionId: string) => Promise<boolean>): TokenVerifier {
  return {
    async verify(token) {
      const caller = await inner.verify(token);
      if (caller.sessionId !== undefined && (await isEnded(caller.sessionId))) throw new SessionEndedError();
      return caller;
    },
  };
}

/** The token is sound but its session has ended (same 401 as any invalid token; told apart for the metrics). */
export class SessionEndedError extends UnauthenticatedError {
  constructor() {
    super('invalid', 'The session of this token has ended; sign in again.');
  }
}

export type SessionCheckOutcome = 'valid' | 'revoked' | 'expired';

/**
 * Reports each token check's outcome (samaconso_session_checks_total): valid, revoked (its session ended) or
 * expired. Other refusals (bad signature, malformed) are not session checks and are not reported.
 */
export function reportingSessionChecks(inner: TokenVerifier, report: (outcome: SessionCheckOutcome) => void): TokenVerifier {
  return {
    async verify(token) {
      try {
        const caller = await inner.verify(token);
        report('valid');
        return caller;
      } catch (e) {
        if (e instanceof SessionEndedError) report('revoked');
        else if (e instanceof UnauthenticatedError && e.cause instanceof joseErrors.JWTExpired) report('expired');
        throw e;
      }
    },
  };
}

function tokenFailure(e: InstanceType<typeof joseErrors.JOSEError>): string {
  if (e instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'The token is signed by an unknown key.';
  return 'The token is not valid.';
}

/**
 * Authenticates and authorises one request against a route's `auth`.
 * Throws UnauthenticatedError (401) or ForbiddenError (403); resolves undefined on public routes.
 */
export async function authenticate(authorization: string | undefined, auth: RouteAuth, verifier: TokenVerifier): Promise<Caller | undefined> {
  if (auth === 'public') return undefined;
  if (!authorization) throw new UnauthenticatedError('missing', 'This route needs a bearer token.');
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization.trim());
  if (!match?.[1]) throw new UnauthenticatedError('invalid', 'The Authorization header is not a bearer token.');
  const caller = await verifier.verify(match[1]);
  if (!auth.includes(caller.role)) throw new ForbiddenError(`This route is for: ${auth.join(', ')}.`);
  return caller;
}
