// Token keys and secrets: the JWKS access tokens are checked with, the key they are signed with, the HMAC secret.
import { z } from 'zod';
import { isSet } from './env-fields.js';

export const tokensEnv = z.object({
  JWT_PUBLIC_KEYS: z.string().optional(),
  JWT_SIGNING_KEY: z.string().optional(),
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('samaconso'),
  JWT_AUDIENCE: z.string().min(1).default('samaconso-app'),
});

export interface JwtConfig {
  publicKeys: string | undefined;
  /** Private JWK (with kid and alg) the API signs access tokens with; a worker needs none. */
  signingKey: string | undefined;
  issuer: string;
  audience: string;
}

export function jwtConfig(e: z.infer<typeof tokensEnv>): JwtConfig {
  return { publicKeys: e.JWT_PUBLIC_KEYS, signingKey: e.JWT_SIGNING_KEY, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE };
}

export function signingKeyProblems(raw: NodeJS.ProcessEnv): string[] {
  if (!isSet(raw, 'JWT_SIGNING_KEY')) return [];
  const problems: string[] = [];
  try {
    const jwk = JSON.parse(raw.JWT_SIGNING_KEY!) as { kid?: unknown; alg?: unknown; d?: unknown };
    if (typeof jwk.kid !== 'string' || !jwk.kid) problems.push('JWT_SIGNING_KEY: the key needs a "kid"');
    if (jwk.alg !== 'ES256' && jwk.alg !== 'EdDSA') problems.push('JWT_SIGNING_KEY: "alg" must be ES256 or EdDSA');
    if (typeof jwk.d !== 'string') problems.push('JWT_SIGNING_KEY: must be a private key (JWK with "d")');
  } catch {
    problems.push('JWT_SIGNING_KEY: is not valid JSON');
  }
  return problems;
}

export function publicKeysProblems(raw: NodeJS.ProcessEnv): string[] {
  if (!isSet(raw, 'JWT_PUBLIC_KEYS')) return [];
  try {
    const jwks = JSON.parse(raw.JWT_PUBLIC_KEYS!) as { keys?: Array<{ kid?: unknown }> };
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) return ['JWT_PUBLIC_KEYS: must be a JWKS object with a non-empty "keys" array'];
    if (jwks.keys.some((k) => typeof k.kid !== 'string' || k.kid === '')) return ['JWT_PUBLIC_KEYS: every key needs a "kid"'];
    return [];
  } catch {
    return ['JWT_PUBLIC_KEYS: is not valid JSON'];
  }
}
