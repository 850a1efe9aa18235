// Issue 8, defect 7a: the PINs an attacker tries first are refused wherever a PIN is chosen (registration,
// reset, change), with a 400 whose code names the rule; nothing is spent on them (no SMS, no code used up).
import { describe, expect, it } from 'vitest';
import { customerNode } from '../support/customers.js';

const t = customerNode();
const { api } = t;

/** One weak PIN per rule, for the phone +221771000420; each names its rule in the code. */
const WEAK: ReadonlyArray<readonly [pin: string, code: string]> = [
  ['0000', 'WEAK_PIN_REPEATED'],
  ['777777', 'WEAK_PIN_REPEATED'],
  ['3456', 'WEAK_PIN_SEQUENCE'],
  ['987654', 'WEAK_PIN_SEQUENCE'],
  ['1212', 'WEAK_PIN_COMMON'],
  ['2580', 'WEAK_PIN_COMMON'],
  ['0420', 'WEAK_PIN_PHONE'],
  ['000420', 'WEAK_PIN_PHONE'],
];

describe('weak PINs (defect 7a)', () => {
  it('registration refuses each weak PIN with a 400 naming its rule, and sends no SMS', async () => {
    const phone = '+221771000420';
    for (const [pin, code] of WEAK) {
      const res = await api.call('POST', '/v1/auth/register', { phone, firstName: 'Awa', lastName: 'Diop', pin });
      expect({ pin, status: res.status, code: res.body.code }).toEqual({ pin, status: 400, code });
      expect(res.body.detail).toMatch(/PIN/);
    }
    expect(await api.smsTo(phone)).toEqual([]);
    expect((await t.sql().query(`SELECT 1 FROM one_time_codes WHERE phone = $1`, [phone])).rowCount).toBe(0);
    // A PIN that breaks no rule goes through.
    expect((await api.call('POST', '/v1/auth/register', { phone, firstName: 'Awa', lastName: 'Diop', pin: '4821' })).status).toBe(202);
  });

  it('a PIN reset refuses a weak new PIN without using up the code, which then sets a good one', async () => {
    const phone = await api.customer('+221771000421', '4821');
    expect((await api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
    const code = await api.lastCode(phone);
    const weak = await api.call('POST', '/v1/auth/pin-reset/confirm', { phone, code, newPin: '5678' });
    expect(weak).toMatchObject({ status: 400, body: { code: 'WEAK_PIN_SEQUENCE' } });
    expect((await api.call('POST', '/v1/auth/pin-reset/confirm', { phone, code, newPin: '0421' })).body.code).toBe('WEAK_PIN_PHONE');
    expect((await api.call('POST', '/v1/auth/pin-reset/confirm', { phone, code, newPin: '6193' })).status).toBe(200);
    expect((await api.login(phone, '6193')).status).toBe(200);
  });

  it('a PIN change refuses a weak new PIN, counts no failure, and the old PIN still signs in', async () => {
    const phone = await api.customer('+221771000422', '4821');
    const { accessToken } = (await api.login(phone, '4821')).body;
    const weak = await api.call('PUT', '/v1/me/pin', { currentPin: '4821', newPin: '1111' }, accessToken);
    expect(weak).toMatchObject({ status: 400, body: { code: 'WEAK_PIN_REPEATED' } });
    expect((await t.sql().query(`SELECT 1 FROM login_failures f JOIN users u ON u.id = f.user_id WHERE u.phone = $1`, [phone])).rowCount).toBe(0);
    expect((await api.login(phone, '4821')).status).toBe(200);
    expect((await api.call('PUT', '/v1/me/pin', { currentPin: '4821', newPin: '6193' }, accessToken)).status).toBe(200);
  });
});
