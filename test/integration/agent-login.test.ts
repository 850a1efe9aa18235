// Agents and admins sign in through the directory: the real slapd over LDAP, and the sandbox directory
// of the embedded mode; directory down or hung → 503 DIRECTORY_UNAVAILABLE, never a 500 or a hang.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const device = { deviceModel: 'Back-office PC', platform: 'web' };
const post = async (node: RunningNode, body: unknown) => {
  const res = await fetch(`${node.apiUrl}/v1/auth/agent-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('agent login against the real directory', () => {
  let db: TestDatabase;
  let node: RunningNode;
  beforeAll(async () => {
    const env = servicesEnv();
    db = await createTestDatabase();
    node = await startTestNode(
      {
        DATABASE_URL: db.url,
        LDAP_URL: env.TEST_LDAP_URL,
        LDAP_BIND_DN: env.TEST_LDAP_BIND_DN,
        LDAP_BIND_PASSWORD: env.TEST_LDAP_BIND_PASSWORD,
        LDAP_BASE_DN: env.TEST_LDAP_BASE_DN,
        LDAP_TIMEOUT_MS: '1000',
      },
      { hasher: bcryptPinHasher(4) },
    );
    await waitFor('ready', () => node.runtime.readiness('test').ready);
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
  });

  it('signs in an agent with the agency from the directory; wrong and empty passwords get the same 401', async () => {
    const env = servicesEnv();
    const ok = await post(node, { login: env.TEST_LDAP_AGENT_UID, password: env.TEST_LDAP_AGENT_PASSWORD, ...device });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ role: 'agent', agency: env.TEST_LDAP_AGENT_AGENCY });
    const me = await fetch(`${node.apiUrl}/v1/me`, { headers: { authorization: `Bearer ${ok.body.accessToken}` } });
    expect(((await me.json()) as { agency: string }).agency).toBe(env.TEST_LDAP_AGENT_AGENCY);

    const wrong = await post(node, { login: env.TEST_LDAP_AGENT_UID, password: 'not-the-password', ...device });
    const empty = await post(node, { login: env.TEST_LDAP_AGENT_UID, password: '', ...device });
    const unknown = await post(node, { login: 'nobody-here', password: 'whatever', ...device });
    for (const r of [wrong, empty, unknown]) expect(r).toMatchObject({ status: 401, body: { code: 'INVALID_CREDENTIALS' } });
  });
});

describe('agent login with the directory down or hung', () => {
  let db: TestDatabase;
  const nodes: RunningNode[] = [];
  let hung: Server;
  let hungPort: number;
  const sockets = new Set<import('node:net').Socket>();
  beforeAll(async () => {
    db = await createTestDatabase();
    hung = createServer((socket) => {
      sockets.add(socket); // accepts and reads, never answers
      socket.resume(); // read (and drop) what comes, or the client's FIN would never be seen
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    hungPort = (hung.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    for (const s of sockets) s.destroy();
    await new Promise((r) => hung.close(r));
    await db?.drop();
  });
  const nodeWith = async (url: string, extra: Record<string, string> = {}) => {
    const env = servicesEnv();
    const n = await startTestNode(
      { DATABASE_URL: db.url, LDAP_URL: url, LDAP_BIND_DN: env.TEST_LDAP_BIND_DN, LDAP_BIND_PASSWORD: 'x', LDAP_BASE_DN: env.TEST_LDAP_BASE_DN, LDAP_TIMEOUT_MS: '300', ...extra },
      { hasher: bcryptPinHasher(4) },
    );
    nodes.push(n);
    await waitFor('postgres up', () => n.runtime.readiness('test').parts.find((p) => p.name === 'postgres')?.ready);
    return n;
  };

  it('answers 503 DIRECTORY_UNAVAILABLE when the directory is stopped (closed port)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const closedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const node = await nodeWith(`ldap://127.0.0.1:${closedPort}`);
    const res = await post(node, { login: 'agent', password: 'secret', ...device });
    expect(res).toMatchObject({ status: 503, body: { code: 'DIRECTORY_UNAVAILABLE' } });
  });

  it('answers 503 DIRECTORY_UNAVAILABLE when the directory hangs, not a 500 and not a hang', async () => {
    const node = await nodeWith(`ldap://127.0.0.1:${hungPort}`);
    const res = await post(node, { login: 'agent', password: 'secret', ...device });
    expect(res).toMatchObject({ status: 503, body: { code: 'DIRECTORY_UNAVAILABLE' } });
    await node.stop();
    // Given-up attempts and probes leave no connection behind.
    await waitFor('connections closed', () => sockets.size === 0, 5_000);
  });

  it('gives agent login more time than the default query deadline, so a hung directory is a 503, not a 504', async () => {
    // The directory's own bound (1.5 s) is longer than the default deadline of a route (1 s).
    const node = await nodeWith(`ldap://127.0.0.1:${hungPort}`, { LDAP_TIMEOUT_MS: '1500', QUERY_DEADLINE_MS: '1000' });
    const res = await post(node, { login: 'agent', password: 'secret', ...device });
    expect(res).toMatchObject({ status: 503, body: { code: 'DIRECTORY_UNAVAILABLE' } });
  });
});

describe('agent login in the embedded mode', () => {
  it('signs in the demo agent and admin through the sandbox directory', async () => {
    const db = await createTestDatabase();
    const node = await startTestNode({ DATABASE_URL: db.url }, { hasher: bcryptPinHasher(4) });
    try {
      await waitFor('ready', () => node.runtime.readiness('test').ready);
      const agent = await post(node, { login: 'agent.demo', password: 'demo-agent-pass', ...device });
      expect(agent).toMatchObject({ status: 200, body: { user: { role: 'agent', agency: 'DAKAR-PLATEAU' } } });
      const wrong = await post(node, { login: 'agent.demo', password: 'nope', ...device });
      expect(wrong.status).toBe(401);
    } finally {
      await node.stop();
      await db.drop();
    }
  });
});
