// Issue 8, defect 7f: failed sign-ins are a metric, samaconso_login_failures_total{kind}, so PIN spraying (a few
// PINs on many accounts: no single account locks) shows as a rate an alarm can watch (threshold in README.md).
// Counted against the test's own tally of refused attempts.
import { describe, expect, it } from 'vitest';
import { customerNode, device } from '../support/customers.js';
import { metricValue } from '../support/metrics.js';

const t = customerNode();
const { api } = t;

describe('failed sign-ins as a metric (defect 7f)', () => {
  it('counts every refused PIN (wrong PIN on many accounts, unknown numbers) and every refused agent password, and no success', async () => {
    const phones = [await api.customer('+221771000480', '4821'), await api.customer('+221771000481', '6193')];
    const customerBefore = (await metricValue(t.node(), 'samaconso_login_failures_total{kind="customer"}')) ?? 0;
    let refused = 0;
    for (const pin of ['3947', '5182']) {
      for (const phone of [...phones, '+221771000489']) {
        expect((await api.login(phone, pin)).status).toBe(401);
        refused++;
      }
    }
    expect((await api.login(phones[0]!, '4821')).status).toBe(200);
    expect(await metricValue(t.node(), 'samaconso_login_failures_total{kind="customer"}')).toBe(customerBefore + refused);

    const agentBefore = (await metricValue(t.node(), 'samaconso_login_failures_total{kind="agent"}')) ?? 0;
    expect((await api.call('POST', '/v1/auth/agent-login', { login: 'agent.demo', password: 'not-the-password', ...device })).status).toBe(401);
    expect(await metricValue(t.node(), 'samaconso_login_failures_total{kind="agent"}')).toBe(agentBefore + 1);
  });
});
