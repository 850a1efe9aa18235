// Who is calling: verifies bearer JWTs against a JWKS (key chosen by kid) and checks the route's roles.
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Config } from '../src/config.js';
import { ForbiddenError, UnauthenticatedError } from './http-errors.js';

export const USER_ROLES = ['customer', 'agent', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Who a route may serve: anyone, or callers holding one of the roles. */
export type RouteAuth = 'public' | readonly UserRole[];

/** The authenticated caller, read from the token's claims. */
export interface Caller {
  readonly userId: string;
  readonly role: UserRole;
  /** The agent's agency; null for customers and admins. */
  readonly agency: string | null;
}

export interface TokenVerifier {
  /** Resolves with the caller, or rejects with UnauthenticatedError. */
  verify(token: string): Promise<Caller>;
}

/** Only asymmetric algorithms: a verifying process must never hold a key that can sign. */
export const TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const;

const claimsSchema = z
  .object({
    sub: z.string().min(1),
    role: z.enum(USER_ROLES),
    agency: z.string().min(1).nullable().default(null),
  })
  // An agent's scope is their agency: a token without one must not pass as "all agencies".
  .refine((c) => c.role !== 'agent' || c.agency !== null, { message: 'an agent token needs an agency' });

export function createTokenVerifier(options: { jwks: JSONWebKeySet; issuer: string; audience: string }): TokenVerifier {
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
          clockTolerance: 5,
        }));
      } catch (e) {
        if (e instanceof UnauthenticatedError) throw e;
        if (e instanceof joseErrors.JOSEError) throw new UnauthenticatedError('invalid', tokenFailure(e), { cause: e });
        throw e;
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw new UnauthenticatedError('invalid', 'The token claims are not valid.');
      return { userId: claims.data.sub, role: claims.data.role, agency: claims.data.agency };
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

export interface DevelopmentKeys {
  readonly jwks: JSONWebKeySet;
  readonly privateKey: CryptoKey;
  readonly kid: string;
}

/** A fresh ES256 key pair for development, when no JWKS is configured (never in production). */
export async function createDevelopmentKeys(): Promise<DevelopmentKeys> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = `dev-${randomUUID()}`;
  const jwk = await exportJWK(publicKey);
  return { jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }, privateKey, kid };
}

/**
 * The verifier for this process: from config.jwt.publicKeys, or from generated development keys
 * (returned so the development login can sign with them). Throws in production without keys.
 */
export async function tokenVerifierFromConfig(config: Config): Promise<{ verifier: TokenVerifier; developmentKeys?: DevelopmentKeys }> {
  const { publicKeys, issuer, audience } = config.jwt;
  if (publicKeys !== undefined) {
    return { verifier: createTokenVerifier({ jwks: JSON.parse(publicKeys) as JSONWebKeySet, issuer, audience }) };
  }
  if (config.env === 'production') throw new Error('JWT_PUBLIC_KEYS is required in production');
  const developmentKeys = await createDevelopmentKeys();
  return { verifier: createTokenVerifier({ jwks: developmentKeys.jwks, issuer, audience }), developmentKeys };
}
