// Issue 8, defect 7d: the public routes that send SMS (registration, PIN reset) cannot be used to bomb one phone or
// drain its budget in one go — at most SMS_REQUESTS_PER_PHONE_PER_HOUR codes an hour per phone, from any number of
// addresses — and the overall daily budget raises an alarm (metric and log line) before it runs out, and says so
// when it does. Witnesses: the sandbox outbox (what reached the phone), the ops port's /metrics, the node's log.
import { describe, expect, it } from 'vitest';
import { customerNode } from '../support/customers.js';
import { metricValue } from '../support/metrics.js';

const HOUR = 3_600_000;

describe('SMS per phone (defect 7d)', () => {
  const t = customerNode();

  it('PIN reset requests for one phone from many addresses send at most three codes an hour; the owner gets one the next hour', async () => {
    const phone = await t.api.customer('+221771000450', '4821');
    t.clock.advance(HOUR);
    const before = (await t.api.smsTo(phone)).length;
    for (let i = 0; i < 6; i++) {
      expect((await t.api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202); // the same answer for every number
      t.clock.advance(61_000);
    }
    expect(await t.api.smsTo(phone)).toHaveLength(before + 3);
    t.clock.advance(HOUR);
    expect((await t.api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
    expect(await t.api.smsTo(phone)).toHaveLength(before + 4);
    expect((await t.api.call('POST', '/v1/auth/pin-reset/confirm', { phone, code: await t.api.lastCode(phone), newPin: '6193' })).status).toBe(200);
  });

  it('registration of one number from many addresses is refused after three codes in the hour, with Retry-After', async () => {
    const phone = '+221771000451';
    for (let i = 0; i < 3; i++) {
      expect((await t.api.call('POST', '/v1/auth/register', { phone, firstName: 'Awa', lastName: 'Diop', pin: '4821' })).status).toBe(202);
      t.clock.advance(61_000);
    }
    const refused = await t.api.call('POST', '/v1/auth/register', { phone, firstName: 'Awa', lastName: 'Diop', pin: '4821' });
    expect(refused).toMatchObject({ status: 429, body: { code: 'SMS_BUDGET_EXCEEDED' } });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(await t.api.smsTo(phone)).toHaveLength(3);
  });

  it("cannot spend a phone's day for its owner: after the day's five codes, one an hour still reaches the phone, never more", async () => {
    const phone = await t.api.customer('+221771000452', '4821'); // the registration's code: the day's first
    t.clock.advance(HOUR);
    const before = (await t.api.smsTo(phone)).length;
    for (let i = 0; i < 6; i++) {
      expect((await t.api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
      t.clock.advance(21 * 60_000); // past the cooldown, and at most three codes in any hour
    }
    expect(await t.api.smsTo(phone)).toHaveLength(before + 4); // the day's five, spent by whoever asked
    t.clock.advance(HOUR);
    expect((await t.api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
    expect(await t.api.smsTo(phone)).toHaveLength(before + 5); // the owner still gets a code within the hour
    t.clock.advance(2 * 60_000);
    expect((await t.api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
    expect(await t.api.smsTo(phone)).toHaveLength(before + 5); // and an attacker gets the phone no more than that
    expect((await t.api.call('POST', '/v1/auth/pin-reset/confirm', { phone, code: await t.api.lastCode(phone), newPin: '6193' })).status).toBe(200);
  });
});

describe('overall SMS budget (defect 7d)', () => {
  const t = customerNode({ SMS_OVERALL_PER_DAY: '4', SMS_BUDGET_ALARM_RATIO: '0.5' });

  it('raises the alarm at the ratio (metric and one log line), and counts and logs the refusals once it is spent', async () => {
    const register = (n: number) => t.api.call('POST', '/v1/auth/register', { phone: `+22177100046${n}`, firstName: 'Awa', lastName: 'Diop', pin: '4821' });
    expect((await register(0)).status).toBe(202);
    expect(await metricValue(t.node(), 'samaconso_sms_overall_budget_ratio')).toBe(0.25);
    expect(t.logLines.filter((l) => l.includes('SMS budget'))).toEqual([]);
    expect((await register(1)).status).toBe(202);
    expect(await metricValue(t.node(), 'samaconso_sms_overall_budget_ratio')).toBe(0.5);
    expect(t.logLines.filter((l) => l.includes('SMS budget') && l.includes('"level":40'))).toHaveLength(1);
    expect((await register(2)).status).toBe(202);
    expect((await register(3)).status).toBe(202);
    expect(t.logLines.filter((l) => l.includes('SMS budget') && l.includes('"level":40'))).toHaveLength(1); // once a day, not per SMS

    expect(await register(4)).toMatchObject({ status: 429, body: { code: 'SMS_BUDGET_EXCEEDED' } });
    expect(await t.api.smsTo('+221771000464')).toEqual([]);
    expect(await metricValue(t.node(), 'samaconso_sms_budget_refusals_total{limit="overall"}')).toBe(1);
    expect(t.logLines.some((l) => l.includes('SMS budget') && l.includes('"level":50'))).toBe(true);
  });
});
