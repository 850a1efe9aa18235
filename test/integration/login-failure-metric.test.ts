// Issue 8, defect 7f: failed sign-ins are a metric, samaconso_login_failures_total{kind}, so PIN spraying (a few
// PINs on many accounts: no single account locks) shows as a rate an alarm can watch (threshold in README.md).
// Counted against the test's own tally of refused attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { ManualClock } from '../../src/clock.js';
import type { RunningNode } from '../../src/node.js';
import { apiClient, device } from '../support/customers.js';
import { metricValue } from '../support/metrics.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const clock = new ManualClock(Date.UTC(2026, 10, 25, 8));
let db: TestDatabase;
let node: RunningNode;
let ip = 0;
const api = apiClient(
  () => node,
  () => `198.51.100.${++ip % 250}`,
);

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: undefined, TRUSTED_PROXY_HOPS: '1' }, { clock, hasher: bcryptPinHasher(4) });
  await waitFor('ready', () => node.runtime.readiness('test').ready);
});
afterAll(async () => {
  await node?.stop();
  await db?.drop();
});

describe('failed sign-ins as a metric (defect 7f)', () => {
  it('counts every refused PIN (wrong PIN on many accounts, unknown numbers) and every refused agent password, and no success', async () => {
    const phones = [await api.customer('+221771000480', '4821'), await api.customer('+221771000481', '6193')];
    const customerBefore = (await metricValue(node, 'samaconso_login_failures_total{kind="customer"}')) ?? 0;
    let refused = 0;
    for (const pin of ['3947', '5182']) {
      for (const phone of [...phones, '+221771000489']) {
        expect((await api.login(phone, pin)).status).toBe(401);
        refused++;
      }
    }
    expect((await api.login(phones[0]!, '4821')).status).toBe(200);
    expect(await metricValue(node, 'samaconso_login_failures_total{kind="customer"}')).toBe(customerBefore + refused);

    const agentBefore = (await metricValue(node, 'samaconso_login_failures_total{kind="agent"}')) ?? 0;
    expect((await api.call('POST', '/v1/auth/agent-login', { login: 'agent.demo', password: 'not-the-password', ...device })).status).toBe(401);
    expect(await metricValue(node, 'samaconso_login_failures_total{kind="agent"}')).toBe(agentBefore + 1);
  });
});
