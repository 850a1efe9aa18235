// Accounts against the real PostgreSQL, on the manual clock: registration with SMS proof, PIN login with
// lockout, the two-device limit, refresh rotation with its grace window and reuse detection, push tokens.
import { beforeEach, describe, expect, it } from 'vitest';
import type { SmsMessage } from '../../src/contracts/sms-messages.js';
import { customerNode } from '../support/customers.js';
import { waitFor } from '../support/wait.js';

const t = customerNode();
const { clock, hasher } = t;

// Each test speaks from its own client address (through the trusted proxy hop), so per-IP limits stay per test.
let clientIp = '198.51.100.1';
let nextIp = 1;
beforeEach(() => {
  clientIp = `198.51.100.${++nextIp}`;
});
const call = async (method: string, path: string, body?: unknown, token?: string) => {
  const res = await fetch(`${t.node().apiUrl}${path}`, {
    method,
    headers: {
      'x-forwarded-for': clientIp,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
};
const lastCode = async (phone: string) => {
  const sent = await t.node().runtime.ask<SmsMessage, 'sandbox-outbox'>('sms', 'sandbox-outbox', { to: phone }, 1000);
  return /(\d{6})/.exec(sent.at(-1)!.text)![1]!;
};
const device = (n: number) => ({ deviceModel: `Phone ${n}`, platform: 'android' as const });

/** Registers and verifies a customer; returns its E.164 phone. */
async function customer(local: string, pin = '4821'): Promise<string> {
  const reg = await call('POST', '/v1/auth/register', { phone: local, firstName: 'Awa', lastName: 'Diop', pin });
  expect(reg.status).toBe(202);
  const phone = reg.body.phone as string;
  expect((await call('POST', '/v1/auth/verify-phone', { phone, code: await lastCode(phone), pin })).status).toBe(200);
  return phone;
}

describe('registration and phone proof', () => {
  it('registers, sends a code by SMS, refuses login until verified, then logs in', async () => {
    const reg = await call('POST', '/v1/auth/register', { phone: '77 100 00 01', firstName: 'Awa', lastName: 'Diop', pin: '4821' });
    expect(reg).toMatchObject({ status: 202, body: { phone: '+221771000001', codeExpiresInSeconds: 600 } });
    const code = await lastCode('+221771000001');

    const early = await call('POST', '/v1/auth/login', { phone: '+221771000001', pin: '4821', ...device(1) });
    expect(early).toMatchObject({ status: 403, body: { code: 'PHONE_NOT_VERIFIED' } });

    const wrong = await call('POST', '/v1/auth/verify-phone', { phone: '+221771000001', code: code === '000000' ? '111111' : '000000', pin: '4821' });
    expect(wrong).toMatchObject({ status: 400, body: { code: 'INVALID_CODE' } });
    expect((await call('POST', '/v1/auth/verify-phone', { phone: '771000001', code, pin: '4821' })).status).toBe(200);

    const login = await call('POST', '/v1/auth/login', { phone: '+221 77 100 00 01', pin: '4821', ...device(1) });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { phone: '+221771000001', phoneVerified: true, role: 'customer' } });
    const me = await call('GET', '/v1/me', undefined, login.body.accessToken);
    expect(me).toMatchObject({ status: 200, body: { phone: '+221771000001', firstName: 'Awa' } });
  });

  it('burns a code after five wrong tries and expires codes after ten minutes', async () => {
    const phone = '+221771000002';
    await call('POST', '/v1/auth/register', { phone, firstName: 'Moussa', lastName: 'Fall', pin: '1357' });
    const code = await lastCode(phone);
    const wrongCode = code === '999999' ? '888888' : '999999';
    for (let i = 0; i < 5; i++) expect((await call('POST', '/v1/auth/verify-phone', { phone, code: wrongCode, pin: '1357' })).status).toBe(400);
    expect(await call('POST', '/v1/auth/verify-phone', { phone, code, pin: '1357' })).toMatchObject({ status: 400, body: { code: 'INVALID_CODE' } });

    clock.advance(61_000); // past the resend cooldown
    await call('POST', '/v1/auth/register', { phone, firstName: 'Moussa', lastName: 'Fall', pin: '1357' });
    const second = await lastCode(phone);
    clock.advance(10 * 60_000 + 1);
    expect((await call('POST', '/v1/auth/verify-phone', { phone, code: second, pin: '1357' })).status).toBe(400);
  });

  it('rejects an invalid phone number with a 400 naming the field', async () => {
    const res = await call('POST', '/v1/auth/register', { phone: '12', firstName: 'A', lastName: 'B', pin: '1234' });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { path: string }) => f.path)).toEqual(['body.phone']);
  });
});

describe('login', () => {
  it('gives an unknown phone and a wrong PIN the same answer and the same hash work', async () => {
    const phone = await customer('771000003');
    const before = hasher.counts.verify;
    const wrongPin = await call('POST', '/v1/auth/login', { phone, pin: '0000', ...device(1) });
    const afterWrong = hasher.counts.verify;
    const unknown = await call('POST', '/v1/auth/login', { phone: '+221779999999', pin: '0000', ...device(1) });
    const afterUnknown = hasher.counts.verify;
    expect(wrongPin.status).toBe(401);
    expect(unknown.status).toBe(wrongPin.status);
    const { requestId: _a, ...w } = wrongPin.body;
    const { requestId: _b, ...u } = unknown.body;
    expect(u).toEqual(w);
    expect(afterWrong - before).toBe(1);
    expect(afterUnknown - afterWrong).toBe(1);
  });

  it('locks the account after five wrong PINs, even for the right PIN, and unlocks after the delay', async () => {
    const phone = await customer('771000004', '2468');
    for (let i = 0; i < 5; i++) expect((await call('POST', '/v1/auth/login', { phone, pin: '0000', ...device(1) })).status).toBe(401);
    const locked = await call('POST', '/v1/auth/login', { phone, pin: '2468', ...device(1) });
    expect(locked).toMatchObject({ status: 429, body: { code: 'ACCOUNT_LOCKED' } });
    clock.advance(60_000);
    // One more wrong PIN after the lock: the next lock lasts twice as long.
    expect((await call('POST', '/v1/auth/login', { phone, pin: '0000', ...device(1) })).status).toBe(401);
    clock.advance(60_000);
    expect((await call('POST', '/v1/auth/login', { phone, pin: '2468', ...device(1) })).status).toBe(429);
    clock.advance(60_000);
    expect((await call('POST', '/v1/auth/login', { phone, pin: '2468', ...device(1) })).status).toBe(200);
  });

  it('ends the oldest session when a third device logs in', async () => {
    const phone = await customer('771000005');
    const sessions = [];
    for (let i = 1; i <= 3; i++) {
      sessions.push((await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(i) })).body);
      clock.advance(1_000);
    }
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: sessions[0]!.refreshToken })).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: sessions[1]!.refreshToken })).status).toBe(200);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: sessions[2]!.refreshToken })).status).toBe(200);
  });
});

describe('refresh tokens', () => {
  it('rotates, replays the same pair within the grace window, and revokes the session on reuse after it', async () => {
    const phone = await customer('771000006');
    const login = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1) })).body;
    const first = await call('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(login.refreshToken);

    clock.advance(3_000); // the reply was lost; the app retries with the old token
    const replay = await call('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken });
    expect(replay.status).toBe(200);
    expect(replay.body.refreshToken).toBe(first.body.refreshToken);
    expect(replay.body.accessToken.split('.')[1]).toBe(first.body.accessToken.split('.')[1]); // same claims

    clock.advance(10_000);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken })).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: first.body.refreshToken })).status).toBe(401);
    const userId = login.user.id as string;
    await waitFor('audit event', async () => (await t.sql().query(`SELECT 1 FROM audit_log WHERE user_id = $1 AND event = 'refresh_token_reused'`, [userId])).rowCount === 1);
  });
});

describe('push tokens', () => {
  it('moves a push token between sessions, keeps it on an expired session, removes it on logout', async () => {
    const phone = await customer('771000007');
    const a = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1), pushToken: 'fcm-token-1' })).body;
    const b = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(2) })).body;
    expect((await call('PUT', '/v1/me/push-token', { pushToken: 'fcm-token-1' }, b.accessToken)).status).toBe(200);
    const holders = await t.sql().query(`SELECT device_model FROM device_sessions WHERE push_token = 'fcm-token-1'`);
    expect(holders.rows).toEqual([{ device_model: 'Phone 2' }]);

    clock.advance(31 * 86_400_000); // every session of this user expires
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: b.refreshToken })).status).toBe(401);
    expect((await t.sql().query(`SELECT 1 FROM device_sessions WHERE push_token = 'fcm-token-1'`)).rowCount).toBe(1);

    const c = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(3), pushToken: 'fcm-token-3' })).body;
    expect((await call('POST', '/v1/auth/logout', {}, c.accessToken)).status).toBe(200);
    expect((await t.sql().query(`SELECT 1 FROM device_sessions WHERE push_token = 'fcm-token-3'`)).rowCount).toBe(0);
    void a;
  });
});

describe('PIN reset, PIN change and account deletion', () => {
  it('resets the PIN with an SMS code and ends every session; an unknown number gets the same answer', async () => {
    const phone = await customer('771000008');
    const a = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1) })).body;
    const unknown = await call('POST', '/v1/auth/pin-reset', { phone: '771999998' });
    const known = await call('POST', '/v1/auth/pin-reset', { phone });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(known.body).sort());
    expect((await call('POST', '/v1/auth/pin-reset/confirm', { phone, code: await lastCode(phone), newPin: '9753' })).status).toBe(200);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(401);
    expect((await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1) })).status).toBe(401);
    expect((await call('POST', '/v1/auth/login', { phone, pin: '9753', ...device(1) })).status).toBe(200);
  });

  it('changes the PIN with the current one and ends the other sessions only', async () => {
    const phone = await customer('771000009');
    const a = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1) })).body;
    const b = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(2) })).body;
    expect((await call('PUT', '/v1/me/pin', { currentPin: '0000', newPin: '6193' }, b.accessToken)).status).toBe(401);
    expect((await call('PUT', '/v1/me/pin', { currentPin: '4821', newPin: '6193' }, b.accessToken)).status).toBe(200);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: b.refreshToken })).status).toBe(200);
  });

  it('deletes the account: personal data and sessions go, the audit trail stays, the number can register again', async () => {
    const phone = await customer('771000010');
    const a = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1), pushToken: 'fcm-deleted' })).body;
    expect((await call('DELETE', '/v1/me', { pin: '0000' }, a.accessToken)).status).toBe(401);
    expect((await call('DELETE', '/v1/me', { pin: '4821' }, a.accessToken)).status).toBe(204);
    const { rows } = await t.sql().query(`SELECT phone, first_name, pin_hash, deleted_at FROM users WHERE id = $1`, [a.user.id]);
    expect(rows[0]).toMatchObject({ phone: null, first_name: null, pin_hash: null });
    expect(rows[0].deleted_at).not.toBeNull();
    expect((await t.sql().query(`SELECT 1 FROM device_sessions WHERE user_id = $1 AND (state = 'active' OR push_token IS NOT NULL)`, [a.user.id])).rowCount).toBe(0);
    await waitFor('audit', async () => (await t.sql().query(`SELECT 1 FROM audit_log WHERE user_id = $1 AND event = 'account_deleted'`, [a.user.id])).rowCount === 1);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(401);
    clock.advance(61_000);
    expect((await call('POST', '/v1/auth/register', { phone, firstName: 'New', lastName: 'Owner', pin: '7294' })).status).toBe(202);
  });
});

describe('per-IP limit', () => {
  it('answers 429 with Retry-After once one address exceeds the login limit', async () => {
    const phone = await customer('771000011');
    let last = { status: 0, body: {} as Record<string, any> };
    for (let i = 0; i < 61; i++) last = await call('POST', '/v1/auth/login', { phone: '779999990', pin: '0000', ...device(1) });
    expect(last).toMatchObject({ status: 429, body: { code: 'TOO_MANY_REQUESTS' } });
    clientIp = '203.0.113.250'; // another address is not affected
    expect((await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1) })).status).toBe(200);
  });
});

describe('profile and logout', () => {
  it('changes the profile, and logs out everywhere with all=true', async () => {
    const phone = await customer('771000012');
    const a = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1) })).body;
    const b = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(2) })).body;
    const patched = await call('PATCH', '/v1/me', { firstName: 'Aïssatou', email: 'aissatou@example.sn' }, a.accessToken);
    expect(patched).toMatchObject({ status: 200, body: { firstName: 'Aïssatou', lastName: 'Diop', email: 'aissatou@example.sn' } });
    expect((await call('PATCH', '/v1/me', {}, a.accessToken)).status).toBe(400);

    expect(await call('POST', '/v1/auth/logout', { all: true }, a.accessToken)).toMatchObject({ status: 200, body: { ended: 2 } });
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: b.refreshToken })).status).toBe(401);
  });
});

describe('registration takeover attempts', () => {
  it('a second registration of an unproved number changes nothing the owner proves', async () => {
    const phone = '+221771000013';
    expect((await call('POST', '/v1/auth/register', { phone, firstName: 'Owner', lastName: 'Real', pin: '5182' })).status).toBe(202);
    const ownerCode = await lastCode(phone);
    // The attacker registers the same number with another PIN: refused during the cooldown, accepted after it.
    expect((await call('POST', '/v1/auth/register', { phone, firstName: 'Mallory', lastName: 'X', pin: '3947' })).status).toBe(429);
    clock.advance(61_000);
    expect((await call('POST', '/v1/auth/register', { phone, firstName: 'Mallory', lastName: 'X', pin: '3947' })).status).toBe(202);
    const attackerCode = await lastCode(phone); // sent to the owner's phone, which the attacker cannot read

    // The owner types the newest code with their own PIN: refused (and that code is spent).
    expect((await call('POST', '/v1/auth/verify-phone', { phone, code: attackerCode, pin: '5182' })).status).toBe(400);
    // Their own code still proves the phone, with their PIN and names.
    expect((await call('POST', '/v1/auth/verify-phone', { phone, code: ownerCode, pin: '5182' })).status).toBe(200);
    expect((await call('POST', '/v1/auth/login', { phone, pin: '3947', ...device(1) })).status).toBe(401);
    const login = await call('POST', '/v1/auth/login', { phone, pin: '5182', ...device(1) });
    expect(login).toMatchObject({ status: 200, body: { user: { firstName: 'Owner' } } });
  });

  it('counts parallel wrong PINs atomically: no more than the allowed tries reach bcrypt', async () => {
    const phone = await customer('771000014', '3579');
    const before = hasher.counts.verify;
    const results = await Promise.all(Array.from({ length: 20 }, () => call('POST', '/v1/auth/login', { phone, pin: '0000', ...device(1) })));
    expect(hasher.counts.verify - before).toBeLessThanOrEqual(5);
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(15);
  });

  it('detects reuse of a refresh token two or more rotations back', async () => {
    const phone = await customer('771000015');
    const a = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1) })).body.refreshToken as string;
    const b = (await call('POST', '/v1/auth/refresh', { refreshToken: a })).body.refreshToken as string;
    clock.advance(11_000);
    const c = (await call('POST', '/v1/auth/refresh', { refreshToken: b })).body.refreshToken as string;
    clock.advance(11_000);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: a })).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: c })).status).toBe(401); // the session is revoked
  });

  it('keeps the device in daily use when an expired session would otherwise count towards the limit', async () => {
    const phone = await customer('771000016');
    const old = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(1), pushToken: 'fcm-old-device' })).body;
    clock.advance(1_000);
    let daily = (await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(2) })).body;
    for (let day = 0; day < 31; day++) {
      clock.advance(86_400_000);
      daily = (await call('POST', '/v1/auth/refresh', { refreshToken: daily.refreshToken })).body;
    }
    // The old device's session has expired; a new login must end neither the daily device nor… the old push token.
    expect((await call('POST', '/v1/auth/login', { phone, pin: '4821', ...device(3) })).status).toBe(200);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: daily.refreshToken })).status).toBe(200);
    expect((await t.sql().query(`SELECT 1 FROM device_sessions WHERE push_token = 'fcm-old-device'`)).rowCount).toBe(1);
    void old;
  });
});
