// Issue 13, Build 4: a scripted scenario (a sign-in, a refused sign-in, a session used, ended, and outlived) after
// which the counters it touches went up by what it did, read before and after from /metrics like a scraper.
import { describe, expect, it } from 'vitest';
import { customerNode } from '../support/customers.js';
import { sampleSum, scrape } from '../support/prometheus-text.js';

const t = customerNode();
const { api } = t;
const read = async (name: string, labels: Record<string, string> = {}) => sampleSum(await scrape(t.node().opsUrl), name, labels);

describe('metrics after a scripted scenario', () => {
  it('counts the refused sign-in, the session checks (valid, revoked, expired) and the requests by route', async () => {
    const phone = await api.customer('+221771000530', '4821');
    const other = await api.customer('+221771000531', '6193');
    const before = {
      failures: await read('samaconso_login_failures_total', { kind: 'customer' }),
      valid: await read('samaconso_session_checks_total', { outcome: 'valid' }),
      revoked: await read('samaconso_session_checks_total', { outcome: 'revoked' }),
      expired: await read('samaconso_session_checks_total', { outcome: 'expired' }),
      logins: await read('samaconso_http_request_duration_seconds_count', { route: '/v1/auth/login', method: 'POST', status: '200' }),
    };

    expect((await api.login(phone, '0000')).status).toBe(401);
    const session = (await api.login(phone, '4821')).body as { accessToken: string };
    expect((await api.call('GET', '/v1/me', undefined, session.accessToken)).status).toBe(200);
    expect((await api.call('POST', '/v1/auth/logout', {}, session.accessToken)).status).toBe(200);
    expect((await api.call('GET', '/v1/me', undefined, session.accessToken)).status).toBe(401);
    const outlived = (await api.login(other, '6193')).body as { accessToken: string };
    t.clock.advance(24 * 3_600_000);
    expect((await api.call('GET', '/v1/me', undefined, outlived.accessToken)).status).toBe(401);

    expect(await read('samaconso_login_failures_total', { kind: 'customer' })).toBe(before.failures + 1);
    // Valid: GET /v1/me, then the logout itself.
    expect(await read('samaconso_session_checks_total', { outcome: 'valid' })).toBe(before.valid + 2);
    expect(await read('samaconso_session_checks_total', { outcome: 'revoked' })).toBe(before.revoked + 1);
    expect(await read('samaconso_session_checks_total', { outcome: 'expired' })).toBe(before.expired + 1);
    expect(await read('samaconso_http_request_duration_seconds_count', { route: '/v1/auth/login', method: 'POST', status: '200' })).toBe(before.logins + 2);
  });

  it('reports the meter-link cache lookups as hits and misses', async () => {
    const families = await scrape(t.node().opsUrl);
    expect(families.get('samaconso_cache_requests_total')?.type).toBe('counter');
    const links = t.node().links!.stats();
    expect(sampleSum(families, 'samaconso_cache_requests_total', { cache: 'meter-links', outcome: 'hit' })).toBe(links.hits);
    expect(sampleSum(families, 'samaconso_cache_requests_total', { cache: 'meter-links', outcome: 'miss' })).toBe(links.misses);
  });
});
