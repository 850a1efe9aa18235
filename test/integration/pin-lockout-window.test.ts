// Issue 8, defect 7b: wrong PINs older than the failure window (PIN_FAILURE_WINDOW_MS, 1 hour by default) stop
// counting towards the lockout, so a lock decays and nobody can hold someone else's account locked for ever
// with one wrong PIN an hour. On the manual clock; the bcrypt counter shows which attempts were really checked.
import { describe, expect, it } from 'vitest';
import { customerNode } from '../support/customers.js';

const HOUR = 3_600_000;
const t = customerNode();
const { api, clock, hasher } = t;

const wrong = async (phone: string, n: number) => {
  for (let i = 0; i < n; i++) expect((await api.login(phone, '6666')).status).toBe(401);
};

describe('PIN failures decay (defect 7b)', () => {
  it('four wrong PINs an hour apart, twice, never lock the account', async () => {
    const phone = await api.customer('+221771000430', '4821');
    await wrong(phone, 4);
    clock.advance(HOUR + 1_000);
    await wrong(phone, 4); // the first four no longer count: 4 in the window, under the limit of 5
    expect((await api.login(phone, '4821')).status).toBe(200);
  });

  it('one wrong PIN an hour does not keep a locked account locked: the owner gets in once the lock ends', async () => {
    const phone = await api.customer('+221771000431', '4821');
    await wrong(phone, 5);
    expect((await api.login(phone, '4821')).body.code).toBe('ACCOUNT_LOCKED');
    for (let hour = 1; hour <= 3; hour++) {
      clock.advance(HOUR + 1_000);
      const before = hasher.counts.verify;
      await wrong(phone, 1); // the attacker's hourly try is checked (and fails) instead of relocking
      expect(hasher.counts.verify - before).toBe(1);
      expect((await api.login(phone, '4821')).status).toBe(200);
    }
  });

  it('five wrong PINs within the window still lock the account', async () => {
    const phone = await api.customer('+221771000432', '4821');
    await wrong(phone, 2);
    clock.advance(HOUR / 2);
    await wrong(phone, 3);
    expect((await api.login(phone, '4821')).body.code).toBe('ACCOUNT_LOCKED');
  });
});
