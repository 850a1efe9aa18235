import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl } from '../../../src/config.js';

const problems = (env: NodeJS.ProcessEnv, argv: string[] = []): readonly string[] => {
  try {
    loadConfig(env, argv);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('config', () => {
  it('defaults to role all on embedded defaults, port 8000', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ role: 'all', env: 'development', http: { port: 8000, trustedProxyHops: 0, corsOrigins: [] } });
    expect(c.postgres.mode).toBe('embedded');
    expect(c.cache.mode).toBe('memory');
  });

  it('takes the role from --role, which wins over ROLE, and refuses a bare --role', () => {
    expect(loadConfig({ ROLE: 'api' }, ['--role', 'worker']).role).toBe('worker');
    expect(loadConfig({}, ['--role=api']).role).toBe('api');
    expect(problems({}, ['--role'])).toEqual([expect.stringMatching(/^ROLE: /)]);
    expect(problems({}, ['--role', '--other'])).toEqual([expect.stringMatching(/^ROLE: /)]);
  });

  it('reports every problem at once, one line each, type errors and cross-variable rules together', () => {
    const list = problems({ APP_ENV: 'production', PORT: 'eighty', TRUSTED_PROXY_HOPS: '-1', DATABASE_URL: 'mysql://x' });
    expect(list.map((l) => l.split(':')[0]).sort()).toEqual(['AMQP_URL', 'AUTH_SECRET', 'DATABASE_URL', 'JWT_PUBLIC_KEYS', 'JWT_SIGNING_KEY', 'PORT', 'REDIS_URL', 'SMS_GATEWAY_URL', 'TRUSTED_PROXY_HOPS']);
    expect(list.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('checks the JWKS shape and reads the proxy hops and CORS allowlist', () => {
    expect(problems({ JWT_PUBLIC_KEYS: '{"keys":[{"kty":"EC"}]}' })).toEqual(['JWT_PUBLIC_KEYS: every key needs a "kid"']);
    expect(problems({ JWT_PUBLIC_KEYS: 'nope' })).toEqual(['JWT_PUBLIC_KEYS: is not valid JSON']);
    const c = loadConfig({ TRUSTED_PROXY_HOPS: '2', CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(c.http).toMatchObject({ trustedProxyHops: 2, corsOrigins: ['https://a.example', 'https://b.example'] });
  });

  it('migrates at start except in production, where it is its own step', () => {
    const dev = loadConfig({ DATABASE_URL: 'postgres://u:p@h/db' });
    const prod = loadConfig({ APP_ENV: 'production', DATABASE_URL: 'postgres://u:p@h/db', REDIS_URL: 'redis://h', JWT_PUBLIC_KEYS: '{"keys":[{"kid":"k"}]}', SMS_GATEWAY_URL: 'https://sms.example/ws', AMQP_URL: 'amqp://mq', AUTH_SECRET: 'x'.repeat(32), ROLE: 'worker' });
    expect(dev.postgres).toMatchObject({ mode: 'external', migrateOnStart: true });
    expect(prod.postgres).toMatchObject({ mode: 'external', migrateOnStart: false, migrationUrl: 'postgres://u:p@h/db' });
  });

  it('never lets a password into a logged URL', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/x')).not.toContain('s3cret');
  });
});
