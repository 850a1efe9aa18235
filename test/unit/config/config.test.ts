import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTokenKeys } from '../../../src/accounts/token-keys.js';
import { loadConfig, redactUrl } from '../../../src/config.js';
import { configProblems } from '../../support/config-problems.js';

const problems = configProblems;

// What production's API roles need besides: the utility's three databases (a twin is for development only).
const SOURCE_URLS = { SQL_SIC_URL: 'mssql://app:pw@sic.example/SIC', SQL_HISTH2MC_URL: 'mssql://app:pw@hist.example/HISTH2MC', SQL_BI_ODS_URL: 'mssql://app:pw@bi.example/BI_ODS' };
/** Object storage production's api role requires (config/objects.ts). */
const STORAGE = { S3_ENDPOINT: 'https://minio.example', S3_PUBLIC_ENDPOINT: 'https://files.example', S3_ACCESS_KEY_ID: 'key', S3_SECRET_ACCESS_KEY: 'secret' };

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
    expect(list.map((l) => l.split(':')[0]).sort()).toEqual(['AMQP_URL', 'AUTH_SECRET', 'DATABASE_URL', 'FCM_PROJECT_ID', 'JWT_PUBLIC_KEYS', 'JWT_SIGNING_KEY', 'PORT', 'REDIS_URL', 'S3_ENDPOINT', 'SMS_GATEWAY_URL', 'SQL_BI_ODS_URL', 'SQL_HISTH2MC_URL', 'SQL_SIC_URL', 'TRUSTED_PROXY_HOPS']);
    expect(list.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('checks the JWKS shape and reads the proxy hops and CORS allowlist', () => {
    expect(problems({ JWT_PUBLIC_KEYS: '{"keys":[{"kty":"EC"}]}' })).toEqual(['JWT_PUBLIC_KEYS: every key needs a "kid"']);
    expect(problems({ JWT_PUBLIC_KEYS: 'nope' })).toEqual(['JWT_PUBLIC_KEYS: is not valid JSON']);
    const c = loadConfig({ TRUSTED_PROXY_HOPS: '2', CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(c.http).toMatchObject({ trustedProxyHops: 2, corsOrigins: ['https://a.example', 'https://b.example'] });
  });

  it('reads the node registry and in-batch progress settings, refusing a staleness bound under two heartbeats', () => {
    expect(loadConfig({}).registry).toEqual({ heartbeatMs: 2_000, staleAfterMs: 10_000 });
    expect(loadConfig({ NODE_HEARTBEAT_MS: '500', NODE_STALE_AFTER_MS: '1000' }).registry).toEqual({ heartbeatMs: 500, staleAfterMs: 1_000 });
    expect(problems({ NODE_HEARTBEAT_MS: '3000', NODE_STALE_AFTER_MS: '5000' })).toEqual([expect.stringMatching(/^NODE_STALE_AFTER_MS: must be at least twice NODE_HEARTBEAT_MS/)]);
    expect(loadConfig({}).dispatch.progress).toEqual({ step: 200, flushMs: 200 });
    expect(loadConfig({ DISPATCH_PROGRESS_STEP: '0' }).dispatch.progress.step).toBe(0); // off
    expect(problems({ DISPATCH_PROGRESS_STEP: '501' })).toEqual([expect.stringMatching(/^DISPATCH_PROGRESS_STEP: /)]);
  });

  it('migrates at start except in production, where it is its own step', () => {
    const dev = loadConfig({ DATABASE_URL: 'postgres://u:p@h/db' });
    const prod = loadConfig({ APP_ENV: 'production', DATABASE_URL: 'postgres://u:p@h/db', REDIS_URL: 'redis://h', JWT_PUBLIC_KEYS: '{"keys":[{"kid":"k"}]}', SMS_GATEWAY_URL: 'https://sms.example/ws', AMQP_URL: 'amqp://mq', AUTH_SECRET: 'x'.repeat(32), ROLE: 'api', JWT_SIGNING_KEY: '{"kid":"k","alg":"ES256","d":"x"}', ...SOURCE_URLS, ...STORAGE });
    expect(dev.postgres).toMatchObject({ mode: 'external', migrateOnStart: true });
    expect(prod.postgres).toMatchObject({ mode: 'external', migrateOnStart: false, migrationUrl: 'postgres://u:p@h/db' });
  });

  it('asks each production role for what it uses: a worker needs no SMS gateway, AUTH_SECRET or token keys; the API no FCM project', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samaconso-roles-'));
    try {
      const credentials = join(dir, 'sa.json');
      writeFileSync(credentials, '{}');
      const shared = { APP_ENV: 'production', DATABASE_URL: 'postgres://u:p@h/db', REDIS_URL: 'redis://h', AMQP_URL: 'amqps://mq' };
      const worker = { ...shared, FCM_PROJECT_ID: 'p', FCM_CREDENTIALS_FILE: credentials };
      const api = { ...shared, JWT_PUBLIC_KEYS: '{"keys":[{"kid":"k"}]}', JWT_SIGNING_KEY: '{"kid":"k","alg":"ES256","d":"x"}', AUTH_SECRET: 'x'.repeat(32), SMS_GATEWAY_URL: 'https://sms.example/ws', ...SOURCE_URLS, ...STORAGE };
      expect(problems(worker, ['--role=worker'])).toEqual([]);
      expect(problems(api, ['--role=api'])).toEqual([]);
      // A worker verifies and issues no token (its ops port serves health and metrics): it starts without keys.
      expect(await resolveTokenKeys(loadConfig(worker, ['--role=worker']))).toMatchObject({ jwks: { keys: [] }, signing: undefined });
      const names = (list: readonly string[]) => list.map((p) => p.split(':')[0]);
      expect(names(problems({ ...shared }, ['--role=worker']))).toEqual(['FCM_PROJECT_ID']);
      const forApi = ['AUTH_SECRET', 'JWT_PUBLIC_KEYS', 'JWT_SIGNING_KEY', 'S3_ENDPOINT', 'SMS_GATEWAY_URL', 'SQL_BI_ODS_URL', 'SQL_HISTH2MC_URL', 'SQL_SIC_URL'];
      expect(names(problems({ ...shared }, ['--role=api'])).sort()).toEqual(forApi);
      expect(names(problems({ ...worker }, ['--role=all'])).sort()).toEqual(forApi);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the dispatch settings and refuses inconsistent ones, each named', () => {
    const c = loadConfig({ CONSUMER_PREFETCH: 'urgent=16, low_priority=1', DISPATCH_WEIGHTS: '8,2,1' });
    expect(c.dispatch).toMatchObject({
      prefetch: { urgent: 16, high_priority: 8, normal: 4, low_priority: 1 },
      fcm: { mode: 'sandbox' },
      weights: { high_priority: 8, normal: 2, low_priority: 1 },
      batchesInFlight: 4,
      urgentReserved: 1,
    });
    const bad = problems({
      CONSUMER_PREFETCH: 'urgent=0,bogus=3',
      FCM_PROJECT_ID: 'p',
      FCM_TRANSPORT: 'http2',
      FCM_PROXY_URL: 'http://proxy:3128',
      FCM_BATCHES_IN_FLIGHT: '4',
      FCM_URGENT_RESERVED: '4',
      DISPATCH_WEIGHTS: '1,2',
    });
    expect(bad.map((l) => l.split(':')[0]).sort()).toEqual([
      'CONSUMER_PREFETCH',
      'CONSUMER_PREFETCH',
      'DISPATCH_WEIGHTS',
      'FCM_CREDENTIALS_FILE',
      'FCM_TRANSPORT',
      'FCM_URGENT_RESERVED',
    ]);
    expect(problems({ FCM_PROJECT_ID: 'p', FCM_CREDENTIALS_FILE: '/nonexistent/sa.json' })).toEqual([expect.stringMatching(/^FCM_CREDENTIALS_FILE: no file at/)]);
    // The default transport works through a proxy.
    expect(loadConfig({ FCM_PROXY_URL: 'http://proxy:3128' }).dispatch.fcm).toEqual({ mode: 'sandbox' });
  });

  it('reads the FCM pool threads\' heap limits: 256 MB old and 16 MB young by default, 0 for V8\'s own, too small or negative refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const fcm = { FCM_PROJECT_ID: 'p', FCM_CREDENTIALS_FILE: join(dir, 'sa.json') };
    writeFileSync(fcm.FCM_CREDENTIALS_FILE, '{}');
    try {
      expect(loadConfig(fcm).dispatch.fcm).toMatchObject({ mode: 'fcm', threadMaxOldMb: 256, threadMaxYoungMb: 16 });
      expect(loadConfig({ ...fcm, FCM_THREAD_MAX_OLD_MB: '0', FCM_THREAD_MAX_YOUNG_MB: '0' }).dispatch.fcm).toMatchObject({ threadMaxOldMb: 0, threadMaxYoungMb: 0 });
      expect([...new Set(problems({ ...fcm, FCM_THREAD_MAX_OLD_MB: '-1', FCM_THREAD_MAX_YOUNG_MB: 'lots' }).map((l) => l.split(':')[0]))].sort()).toEqual(['FCM_THREAD_MAX_OLD_MB', 'FCM_THREAD_MAX_YOUNG_MB']);
      // Node takes a small limit literally: a thread that cannot even start
      expect(problems({ ...fcm, FCM_THREAD_MAX_OLD_MB: '16', FCM_THREAD_MAX_YOUNG_MB: '1' })).toEqual([expect.stringMatching(/^FCM_THREAD_MAX_OLD_MB: must be 0 \(V8's default\) or at least 64/), expect.stringMatching(/^FCM_THREAD_MAX_YOUNG_MB: must be 0/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses plain-text credentials in production, one line each, unless an override names the risk (then logged)', () => {
    const prod = {
      APP_ENV: 'production',
      ROLE: 'api',
      DATABASE_URL: 'postgres://u:p@h/db',
      REDIS_URL: 'redis://h',
      JWT_PUBLIC_KEYS: '{"keys":[{"kid":"k"}]}',
      JWT_SIGNING_KEY: '{"kid":"k","alg":"ES256","d":"x"}',
      AUTH_SECRET: 'x'.repeat(32),
      AMQP_URL: 'amqp://mq',
      LDAP_BIND_DN: 'cn=svc',
      LDAP_BIND_PASSWORD: 'pw',
      LDAP_BASE_DN: 'dc=x',
      ...SOURCE_URLS,
      ...STORAGE,
    };
    const plain = problems({ ...prod, LDAP_URL: 'ldap://ad.example', SMS_GATEWAY_URL: 'http://sms.example/ws' });
    expect(plain).toEqual([expect.stringMatching(/^LDAP_URL: .*ldaps:\/\/.*LDAP_STARTTLS/), expect.stringMatching(/^SMS_GATEWAY_URL: .*https:\/\//)]);
    expect(problems({ ...prod, LDAP_URL: 'ldaps://ad.example', SMS_GATEWAY_URL: 'https://sms.example/ws' })).toEqual([]);
    expect(problems({ ...prod, LDAP_URL: 'ldap://ad.example', LDAP_STARTTLS: 'true', SMS_GATEWAY_URL: 'https://sms.example/ws' })).toEqual([]);
    const overridden = loadConfig({ ...prod, LDAP_URL: 'ldap://ad.example', SMS_GATEWAY_URL: 'http://sms.example/ws', LDAP_ALLOW_PLAINTEXT: 'true', SMS_GATEWAY_ALLOW_PLAINTEXT: 'true' });
    expect(overridden.risks).toEqual([expect.stringMatching(/^LDAP_ALLOW_PLAINTEXT: .*passwords/), expect.stringMatching(/^SMS_GATEWAY_ALLOW_PLAINTEXT: .*codes/)]);
  });

  it('reads the access tokens\' life (15 min by default, 10 s to 1 h) and the agents\' session limit', () => {
    expect(loadConfig({}).sessions).toMatchObject({ accessTtlMs: 900_000, agentMaxActiveSessions: 5, maxActiveSessions: 2 });
    expect(loadConfig({ ACCESS_TOKEN_TTL_MS: '12000', AGENT_MAX_SESSIONS: '3' }).sessions).toMatchObject({ accessTtlMs: 12_000, agentMaxActiveSessions: 3 });
    for (const bad of ['9999', '3600001', 'soon']) expect(() => loadConfig({ ACCESS_TOKEN_TTL_MS: bad }), bad).toThrow(/ACCESS_TOKEN_TTL_MS/);
  });

  it('reads LDAP_STARTTLS into the directory settings', () => {
    const c = loadConfig({ LDAP_URL: 'ldap://ad.example', LDAP_BIND_DN: 'cn=svc', LDAP_BIND_PASSWORD: 'pw', LDAP_BASE_DN: 'dc=x', LDAP_STARTTLS: 'true' });
    expect(c.ldap).toMatchObject({ url: 'ldap://ad.example', startTls: true });
    expect(c.risks).toEqual([]);
  });

  it('never lets a password into a logged URL', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/x')).not.toContain('s3cret');
  });
});
