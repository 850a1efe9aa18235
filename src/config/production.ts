// What production requires of each role, and the plain-text credentials it refuses without an explicit override.
import { isSet, isYes } from './env-fields.js';

export function productionProblems(raw: NodeJS.ProcessEnv): string[] {
  if (raw.APP_ENV !== 'production') return [];
  const problems: string[] = [];
  const set = (k: string) => isSet(raw, k);
  // Each role is asked for what it uses (README, "Production settings by role"): every role for the shared
  // services; the API (api, all) for token keys, the HMAC secret and the SMS gateway; the worker (worker, all)
  // for its FCM project.
  const servesApi = raw.ROLE !== 'worker';
  const sends = raw.ROLE !== 'api';
  if (!set('DATABASE_URL')) problems.push('DATABASE_URL: required in production (the embedded database is for development only)');
  if (!set('REDIS_URL')) problems.push('REDIS_URL: required in production (the in-process cache is for development only)');
  if (!set('AMQP_URL')) problems.push('AMQP_URL: required in production (the in-process broker is for the demo only)');
  if (servesApi) {
    if (!set('JWT_PUBLIC_KEYS')) problems.push('JWT_PUBLIC_KEYS: required in production for the api role (a JWKS with the token verification keys)');
    if (!set('JWT_SIGNING_KEY')) problems.push('JWT_SIGNING_KEY: required in production for the api role (a private JWK with kid and alg)');
    if (!set('AUTH_SECRET')) problems.push('AUTH_SECRET: required in production for the api role (at least 32 random characters)');
    if (!set('SMS_GATEWAY_URL')) problems.push('SMS_GATEWAY_URL: required in production for the api role (the SMS sandbox is for development only)');
  }
  if (sends && !set('FCM_PROJECT_ID')) problems.push('FCM_PROJECT_ID: required in production for the worker role (the FCM sandbox is for development only)');
  // Plain-text credentials: refused unless an explicit override accepts the risk (then logged at every start).
  const url = (k: string) => (raw[k] ?? '').trim();
  if (url('LDAP_URL').startsWith('ldap://') && !isYes(raw, 'LDAP_STARTTLS') && !isYes(raw, 'LDAP_ALLOW_PLAINTEXT')) {
    problems.push('LDAP_URL: ldap:// sends passwords in clear; use ldaps://, or set LDAP_STARTTLS=true (or accept the risk with LDAP_ALLOW_PLAINTEXT=true)');
  }
  if (url('SMS_GATEWAY_URL').startsWith('http://') && !isYes(raw, 'SMS_GATEWAY_ALLOW_PLAINTEXT')) {
    problems.push('SMS_GATEWAY_URL: http:// carries one-time codes in clear; use https:// (or accept the risk with SMS_GATEWAY_ALLOW_PLAINTEXT=true)');
  }
  return problems;
}
