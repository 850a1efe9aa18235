// Issue 8, defect 7e: registration answers the same whether or not the number already has an account, so it
// cannot be used to learn which numbers are customers; a proved number gets no code (nothing to take over), only
// a notice to its owner, within the same cooldown and budgets as a code. The sandbox outbox is the witness.
import { describe, expect, it } from 'vitest';
import { customerNode, type ApiAnswer } from '../support/customers.js';

const t = customerNode();
const { api, clock } = t;

const register = (phone: string) => api.call('POST', '/v1/auth/register', { phone, firstName: 'Mallory', lastName: 'X', pin: '3947' });
/** An answer without what differs by nature (the number itself, the request id). */
const shape = (a: ApiAnswer) => {
  const { phone: _p, requestId: _r, ...body } = a.body;
  return { status: a.status, retryAfter: a.retryAfter !== null, body };
};

describe('registering a number that has an account (defect 7e)', () => {
  it('answers exactly as for a new number, sends its owner a notice without any code, and changes nothing', async () => {
    const known = await api.customer('+221771000470', '4821');
    clock.advance(61_000);
    const before = (await api.smsTo(known)).length;

    const fresh = await register('+221771000471');
    const taken = await register(known);
    expect(shape(taken)).toEqual(shape(fresh));
    expect(taken.body.phone).toBe(known);

    const sent = (await api.smsTo(known)).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).not.toMatch(/\d{6}/); // no code: nothing anyone could use to take the account
    expect(sent[0]!.text).toMatch(/compte/);
    // Within the cooldown both answer the same refusal.
    expect(shape(await register(known))).toEqual(shape(await register('+221771000471')));
    // The account is untouched: its PIN still signs in, the registration's PIN does not.
    expect((await api.login(known, '4821')).status).toBe(200);
    expect((await api.login(known, '3947')).status).toBe(401);
  });
});
