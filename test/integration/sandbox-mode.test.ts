// The sandboxes (directory with the published demo passwords, SMS that only records, FCM that only records) and
// the demo seed exist only in the demo (embedded database, not production) and in tests (APP_ENV=test, set
// explicitly). A node on a real database in any other mode has none of them: agent logins without LDAP_URL
// answer 503 DIRECTORY_UNAVAILABLE and SMS without a gateway answers 503 SMS_UNAVAILABLE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { loadConfig, unavailableParts } from '../../src/config.js';
import { DEMO_AGENTS } from '../../src/demo/demo-accounts.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const post = async (node: RunningNode, path: string, body: unknown) => {
  const res = await fetch(`${node.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('sandboxes only in the demo and in tests', () => {
  let db: TestDatabase;
  let node: RunningNode;
  beforeAll(async () => {
    db = await createTestDatabase();
    // A staging server: a real database, APP_ENV left at its default, no LDAP_URL, no SMS gateway.
    node = await startTestNode({ APP_ENV: 'development', ROLE: 'api', DATABASE_URL: db.url }, { hasher: bcryptPinHasher(4) });
    await waitFor('ready', () => node.runtime.readiness('test').ready);
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
  });

  it('a node on a real database outside test mode refuses the demo agent password with 503 DIRECTORY_UNAVAILABLE', async () => {
    const demo = DEMO_AGENTS[0]!;
    const res = await post(node, '/v1/auth/agent-login', { login: demo.login, password: demo.password, deviceModel: 'PC', platform: 'web' });
    expect(res).toMatchObject({ status: 503, body: { code: 'DIRECTORY_UNAVAILABLE' } });
  });

  it('a node on a real database outside test mode sends no SMS to a sandbox: registration answers 503 SMS_UNAVAILABLE', async () => {
    const res = await post(node, '/v1/auth/register', { phone: '+221771234567', firstName: 'Awa', lastName: 'Diop', pin: '8351' });
    expect(res).toMatchObject({ status: 503, body: { code: 'SMS_UNAVAILABLE' } });
  });

  it('the config allows the sandboxes only for the embedded demo and for APP_ENV=test', () => {
    const real = 'postgres://u:p@db.example/samaconso';
    expect(loadConfig({}).sandbox).toBe(true); // embedded, development: the demo
    expect(loadConfig({ APP_ENV: 'test', DATABASE_URL: real }).sandbox).toBe(true);
    expect(loadConfig({ DATABASE_URL: real }).sandbox).toBe(false);
    expect(loadConfig({ APP_ENV: 'development', DATABASE_URL: real }).sandbox).toBe(false);
    // The start log says why each part is unavailable.
    const lines = unavailableParts(loadConfig({ DATABASE_URL: real }));
    expect(lines).toEqual([expect.stringMatching(/^no LDAP_URL: .*DIRECTORY_UNAVAILABLE/), expect.stringMatching(/^no SMS_GATEWAY_URL: /), expect.stringMatching(/^no FCM_PROJECT_ID: /)]);
    expect(loadConfig({ DATABASE_URL: real }).dispatch.fcm).toEqual({ mode: 'none' });
  });
});
