// The keys of access tokens: the JWKS the API verifies with, and the private key it signs with (a worker holds none).
// Without configured keys (development), one ES256 pair is generated per process.
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { Config } from '../config.js';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'EdDSA';
  readonly key: CryptoKey | Uint8Array;
}

export interface TokenKeys {
  readonly jwks: JSONWebKeySet;
  /** Undefined when this process holds no private key (it can verify, not issue). */
  readonly signing: SigningKey | undefined;
  /** HMAC secret for refresh tokens and one-time codes. */
  readonly authSecret: Buffer;
  /** True when the keys were generated here: tokens die with the process. */
  readonly generated: boolean;
}

export async function resolveTokenKeys(config: Config): Promise<TokenKeys> {
  const authSecret = config.authSecret ? Buffer.from(config.authSecret, 'utf8') : randomBytes(32);
  if (config.jwt.publicKeys) {
    let signing: SigningKey | undefined;
    if (config.jwt.signingKey) {
      const jwk = JSON.parse(config.jwt.signingKey) as JWK & { kid: string; alg: 'ES256' | 'EdDSA' };
      signing = { kid: jwk.kid, alg: jwk.alg, key: await importJWK(jwk, jwk.alg) };
    }
    return { jwks: JSON.parse(config.jwt.publicKeys) as JSONWebKeySet, signing, authSecret, generated: false };
  }
  if (config.env === 'production') {
    // A worker verifies and issues no token (its ops port serves health and metrics only): it holds no keys.
    if (config.role === 'worker') return { jwks: { keys: [] }, signing: undefined, authSecret, generated: false };
    throw new Error('JWT_PUBLIC_KEYS is required in production for the api role');
  }
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = `dev-${randomUUID()}`;
  const jwk = await exportJWK(publicKey);
  return { jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }, signing: { kid, alg: 'ES256', key: privateKey }, authSecret, generated: true };
}
