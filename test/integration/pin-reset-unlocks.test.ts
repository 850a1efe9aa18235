// Issue 8, defect 7c: a customer whose account someone locked with wrong PINs gets back in at once by a PIN
// reset over SMS, which clears the lock (even one at its ceiling), without waiting for it to end.
import { describe, expect, it } from 'vitest';
import { customerNode } from '../support/customers.js';

const t = customerNode();
const { api, clock } = t;

describe('PIN reset unlocks (defect 7c)', () => {
  it('a locked customer asks for a reset code, sets a new PIN and signs in at once; the lock is gone', async () => {
    const phone = await api.customer('+221771000440', '4821');
    // An attacker locks the account, to the ceiling (ten wrong PINs a lock apart).
    for (let i = 0; i < 10; i++) {
      if (i > 4) clock.advance(61_000 * 2 ** (i - 5)); // past the current lock
      expect((await api.login(phone, '6666')).status).toBe(401);
    }
    expect(await api.login(phone, '6666')).toMatchObject({ status: 429, body: { code: 'ACCOUNT_LOCKED' } });

    const sent = (await api.smsTo(phone)).length;
    expect((await api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
    expect(await api.smsTo(phone)).toHaveLength(sent + 1); // the code reached the locked customer
    expect((await api.call('POST', '/v1/auth/pin-reset/confirm', { phone, code: await api.lastCode(phone), newPin: '6193' })).status).toBe(200);
    expect((await t.sql().query(`SELECT 1 FROM login_failures f JOIN users u ON u.id = f.user_id WHERE u.phone = $1`, [phone])).rowCount).toBe(0);
    expect((await api.login(phone, '6193')).status).toBe(200);
  });

  it('the owner may keep the PIN they had: a reset to the same PIN unlocks too', async () => {
    const phone = await api.customer('+221771000441', '4821');
    for (let i = 0; i < 5; i++) await api.login(phone, '6666');
    expect((await api.login(phone, '4821')).body.code).toBe('ACCOUNT_LOCKED');
    expect((await api.call('POST', '/v1/auth/pin-reset', { phone })).status).toBe(202);
    expect((await api.call('POST', '/v1/auth/pin-reset/confirm', { phone, code: await api.lastCode(phone), newPin: '4821' })).status).toBe(200);
    expect((await api.login(phone, '4821')).status).toBe(200);
  });
});
