// Test signing keys and a token minter: a current ES256 key and a previous EdDSA key, both in the JWKS (rotation).
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JSONWebKeySet } from 'jose';
import { createTokenVerifier, type TokenVerifier, type UserRole } from '../../http/auth.js';

export const TEST_ISSUER = 'samaconso';
export const TEST_AUDIENCE = 'samaconso-app';

interface TestKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'EdDSA';
  readonly privateKey: CryptoKey;
}

async function testKey(kid: string, alg: TestKey['alg']): Promise<{ key: TestKey; publicJwk: JSONWebKeySet['keys'][number]; privateJwk: object }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return {
    key: { kid, alg, privateKey },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
  };
}

const current = await testKey('test-current', 'ES256');
const previous = await testKey('test-previous', 'EdDSA');

export const TEST_KEYS = { current: current.key, previous: previous.key } as const;

/** The current private key as JWT_SIGNING_KEY takes it: a node under test issues tokens the tests can verify. */
export const TEST_SIGNING_JWK = JSON.stringify(current.privateJwk);

/** Both public keys, as config.jwt.publicKeys would list them during a rotation. */
export const TEST_JWKS: JSONWebKeySet = { keys: [current.publicJwk, previous.publicJwk] };

export function testTokenVerifier(jwks: JSONWebKeySet = TEST_JWKS): TokenVerifier {
  return createTokenVerifier({ jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
}

export interface MintOptions {
  readonly role: UserRole;
  readonly sub?: string;
  /** Defaults to null, except for agents who get 'dakar-plateau'. */
  readonly agency?: string | null;
  /** jose time span ('15m', '-1h') or seconds since the epoch. Default '15m'. */
  readonly expiresIn?: string | number;
  /** Which key signs. Default 'current'. */
  readonly key?: keyof typeof TEST_KEYS;
  /** Overrides the kid in the header, e.g. to name a key the verifier does not know; null leaves it out. */
  readonly kid?: string | null;
  readonly audience?: string;
  readonly issuer?: string;
}

/** User ids are UUIDs, as the login routes issue them; one fixed id per role by default. */
const DEFAULT_SUBJECTS = { customer: '00000000-0000-4000-8000-0000000000c1', agent: '00000000-0000-4000-8000-0000000000a1', admin: '00000000-0000-4000-8000-0000000000ad' } as const;

export async function mintToken(options: MintOptions): Promise<string> {
  const key = TEST_KEYS[options.key ?? 'current'];
  const agency = options.agency !== undefined ? options.agency : options.role === 'agent' ? 'dakar-plateau' : null;
  return new SignJWT({ role: options.role, agency })
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(options.kid === null ? {} : { kid: options.kid ?? key.kid }) })
    .setSubject(options.sub ?? DEFAULT_SUBJECTS[options.role])
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '15m')
    .sign(key.privateKey);
}
