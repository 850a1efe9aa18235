// Every non-public route needs a valid bearer JWT from a known key, and the right role.
import { afterEach, describe, expect, it } from 'vitest';
import { routesBySurface, SURFACES } from '../../../http/routes/route-catalogue.js';
import { generateOpenApiDocument, createOpenApiRegistry } from '../../../http/openapi.js';
import { mintToken, type MintOptions } from '../../support/tokens.js';
import { fakeGateway, type Harness, readProblem, samplePath, startHttp } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const TREE = { path: 'root', name: 'root', kind: 'supervisor', stats: { state: 'running', mailboxDepth: 0, handled: 1, crashes: 0, restarts: 0 } };
/** GET /admin/supervisors: every alive node's last snapshot. */
const CLUSTER = { nodes: [{ node: 'api-1', role: 'api', at: '2026-01-01T00:00:00.000Z', ageMs: 120, tree: TREE }] };

async function getTree(h: Harness, token: string | MintOptions): Promise<Response> {
  const jwt = typeof token === 'string' ? token : await mintToken(token);
  return h.fetch('/admin/supervisors', { headers: { Authorization: `Bearer ${jwt}` } });
}

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate on every non-public route when no token is sent', async () => {
    const catalogue = routesBySurface({ gateway: fakeGateway(), openApiDocument: () => generateOpenApiDocument(createOpenApiRegistry()) });
    let checked = 0;
    for (const surface of SURFACES) {
      const h = await startHttp({ surface });
      try {
        for (const route of catalogue[surface].filter((r) => r.auth !== 'public')) {
          const res = await h.fetch(samplePath(route.path), { method: route.method, headers: { 'Content-Type': 'application/json' }, ...(route.method === 'GET' ? {} : { body: '{}' }) });
          expect(res.status, route.key).toBe(401);
          expect(res.headers.get('www-authenticate'), route.key).toBe('Bearer realm="samaconso"');
          expect((await readProblem(res)).code, route.key).toBe('UNAUTHENTICATED');
          checked++;
        }
      } finally {
        await h.close();
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('answers 403 FORBIDDEN to a customer or an agent on /admin routes', async () => {
    harness = await startHttp({ gateway: fakeGateway({ 'control-plane.trees': () => CLUSTER }) });
    for (const role of ['customer', 'agent'] as const) {
      const res = await getTree(harness, { role });
      expect(res.status, role).toBe(403);
      expect((await readProblem(res)).code).toBe('FORBIDDEN');
    }
  });

  it('serves an admin signed with the current key', async () => {
    harness = await startHttp({ gateway: fakeGateway({ 'control-plane.trees': () => CLUSTER }) });
    const res = await getTree(harness, { role: 'admin' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(CLUSTER);
  });

  it('accepts a token signed with the second key of the JWKS (rotation)', async () => {
    harness = await startHttp({ gateway: fakeGateway({ 'control-plane.trees': () => CLUSTER }) });
    expect((await getTree(harness, { role: 'admin', key: 'previous' })).status).toBe(200);
  });

  it.each([
    ['an unknown kid', { role: 'admin', kid: 'retired-key' }],
    ['a token without a kid', { role: 'admin', kid: null }],
    ['an expired token', { role: 'admin', expiresIn: '-1h' }],
    ['another audience', { role: 'admin', audience: 'someone-else' }],
    ['another issuer', { role: 'admin', issuer: 'someone-else' }],
    ['an agent without an agency', { role: 'agent', agency: null }],
  ] satisfies [string, MintOptions][])('answers 401 invalid_token to %s', async (_, options) => {
    harness = await startHttp({ gateway: fakeGateway({ 'control-plane.trees': () => CLUSTER }) });
    const res = await getTree(harness, options);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="samaconso", error="invalid_token"');
    expect((await readProblem(res)).code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 to a token whose signature does not match its kid', async () => {
    harness = await startHttp();
    const res = await getTree(harness, { role: 'admin', key: 'current', kid: 'test-previous' });
    expect(res.status).toBe(401);
  });

  it('answers 401 to an unsigned token, a non-bearer header and garbage', async () => {
    harness = await startHttp();
    const payload = (await mintToken({ role: 'admin' })).split('.')[1];
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'test-current' })).toString('base64url')}.${payload}.`;
    for (const authorization of [`Bearer ${unsigned}`, 'Basic YWRtaW46YWRtaW4=', 'Bearer not-a-jwt']) {
      const res = await harness.fetch('/admin/supervisors', { headers: { Authorization: authorization } });
      expect(res.status, authorization).toBe(401);
    }
  });
});
