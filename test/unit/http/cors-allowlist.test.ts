// CORS is closed except for the exact origins configured in CORS_ORIGINS.
import { afterEach, describe, expect, it } from 'vitest';
import { startHttp, type Harness } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ALLOWED = 'https://backoffice.senelec.example';

describe('CORS allowlist', () => {
  it('gives an allowed origin the CORS headers', async () => {
    harness = await startHttp({ env: { CORS_ORIGINS: ALLOWED } });
    const res = await harness.fetch('/health/live', { headers: { Origin: ALLOWED } });
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('gives any other origin, even a near match, no CORS headers', async () => {
    harness = await startHttp({ env: { CORS_ORIGINS: ALLOWED } });
    for (const origin of ['https://evil.example', `${ALLOWED}.evil.example`, 'http://backoffice.senelec.example']) {
      const res = await harness.fetch('/health/live', { headers: { Origin: origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('answers a preflight from an allowed origin and not from another', async () => {
    harness = await startHttp({ env: { CORS_ORIGINS: ALLOWED } });
    const preflight = (origin: string) =>
      harness!.fetch('/admin/supervisors', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('Authorization');
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});
