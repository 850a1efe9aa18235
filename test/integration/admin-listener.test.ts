// ADMIN_PORT gives the on-call page and the /admin routes a listener of their own, so they can be kept off the
// public network: a real node against PostgreSQL and the real directory serves them there (the staff sign-in and
// its refresh too, which the page needs on its own origin), and no longer on the public listener, which keeps
// everything else. Roles are checked as everywhere: a customer's token is still refused on the admin listener.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let node: RunningNode;

beforeAll(async () => {
  const env = servicesEnv();
  db = await createTestDatabase();
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  try {
    // The directory's agent, made an admin by the product (roles are ours): agent login keeps it.
    await sql.query(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), $1, 'admin', now())`, [env.TEST_LDAP_AGENT_UID.toLowerCase()]);
  } finally {
    await sql.end();
  }
  node = await startTestNode(
    {
      DATABASE_URL: db.url,
      LDAP_URL: env.TEST_LDAP_URL,
      LDAP_BIND_DN: env.TEST_LDAP_BIND_DN,
      LDAP_BIND_PASSWORD: env.TEST_LDAP_BIND_PASSWORD,
      LDAP_BASE_DN: env.TEST_LDAP_BASE_DN,
      LDAP_TIMEOUT_MS: '2000',
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: '0',
    },
    { hasher: bcryptPinHasher(4) },
  );
  await waitFor('ready', () => node.runtime.readiness('test').ready, 60_000);
}, 90_000);
afterAll(async () => {
  await node?.stop();
  await db?.drop();
});

const json = (body: unknown, token?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});
const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

describe('a separate admin listener (ADMIN_PORT)', () => {
  it('serves the page, the staff sign-in and the /admin routes there, and none of them on the public listener', async () => {
    const env = servicesEnv();
    const adminUrl = node.adminUrl;
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(adminUrl).not.toBe(node.apiUrl);

    const page = await fetch(`${adminUrl}/admin`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");

    const login = await fetch(`${adminUrl}/v1/auth/agent-login`, json({ login: env.TEST_LDAP_AGENT_UID, password: env.TEST_LDAP_AGENT_PASSWORD, deviceModel: 'On-call laptop', platform: 'web' }));
    expect(login.status).toBe(200);
    const signedIn = (await login.json()) as { accessToken: string; refreshToken: string; user: { role: string } };
    expect(signedIn.user.role).toBe('admin');

    const nodes = await fetch(`${adminUrl}/admin/nodes`, bearer(signedIn.accessToken));
    expect(nodes.status).toBe(200);
    expect(((await nodes.json()) as { nodes: unknown[] }).nodes.length).toBeGreaterThan(0);

    const refreshed = await fetch(`${adminUrl}/v1/auth/refresh`, json({ refreshToken: signedIn.refreshToken }));
    expect(refreshed.status).toBe(200);
    const { accessToken } = (await refreshed.json()) as { accessToken: string };
    expect((await fetch(`${adminUrl}/admin/supervisors`, bearer(accessToken))).status).toBe(200);

    // The public listener no longer has them, whoever asks; it keeps the rest (the same token reads /v1/me there).
    for (const path of ['/admin', '/admin/nodes', '/admin/supervisors', '/admin/queues', '/admin/events']) {
      expect((await fetch(`${node.apiUrl}${path}`, bearer(accessToken))).status, path).toBe(404);
    }
    expect((await fetch(`${node.apiUrl}/v1/me`, bearer(accessToken))).status).toBe(200);
    // And the admin listener has nothing of the clients'.
    expect((await fetch(`${adminUrl}/v1/me`, bearer(accessToken))).status).toBe(404);

    expect((await fetch(`${adminUrl}/v1/auth/logout`, json({}, accessToken))).status).toBe(200);
  });

  it('still refuses a customer or an agent on the admin listener (403)', async () => {
    for (const role of ['customer', 'agent'] as const) {
      const token = await mintToken({ role, sub: crypto.randomUUID() });
      const res = await fetch(`${node.adminUrl}/admin/nodes`, bearer(token));
      expect(res.status, role).toBe(403);
    }
  });
});
