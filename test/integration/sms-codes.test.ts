// SMS codes: resend cooldown, daily budgets per phone and overall, and a gateway outage that neither
// consumes the code nor spends the budget.
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { ManualClock } from '../../src/clock.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let ipCounter = 0;
const register = async (node: RunningNode, phone: string) => {
  const res = await fetch(`${node.apiUrl}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.18.0.${++ipCounter % 250}` },
    body: JSON.stringify({ phone, firstName: 'Ibrahima', lastName: 'Ba', pin: '1357' }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
};

describe('SMS code limits', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 8));
  let db: TestDatabase;
  let node: RunningNode;
  beforeAll(async () => {
    db = await createTestDatabase();
    node = await startTestNode({ DATABASE_URL: db.url, TRUSTED_PROXY_HOPS: '1' }, { clock, hasher: bcryptPinHasher(4) });
    await waitFor('ready', () => node.runtime.readiness('test').ready);
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
  });

  it('refuses a resend within the cooldown, and past five SMS to a phone in the day, another within the hour of the last', async () => {
    const phone = '+221771000200';
    expect((await register(node, phone)).status).toBe(202);
    const early = await register(node, phone);
    expect(early).toMatchObject({ status: 429, body: { code: 'CODE_COOLDOWN' } });
    expect(Number(early.retryAfter)).toBeGreaterThan(0);
    for (let i = 2; i <= 5; i++) {
      clock.advance(21 * 60_000); // past the cooldown, and at most three codes in any hour
      expect((await register(node, phone)).status).toBe(202);
    }
    clock.advance(21 * 60_000);
    expect(await register(node, phone)).toMatchObject({ status: 429, body: { code: 'SMS_BUDGET_EXCEEDED' } });
    clock.advance(24 * 3_600_000); // the next day
    expect((await register(node, phone)).status).toBe(202);
  });
});

describe('SMS gateway down', () => {
  let db: TestDatabase;
  let node: RunningNode;
  beforeAll(async () => {
    db = await createTestDatabase();
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    node = await startTestNode({ DATABASE_URL: db.url, SMS_GATEWAY_URL: `http://127.0.0.1:${port}/sms`, SMS_GATEWAY_TIMEOUT_MS: '500' }, { hasher: bcryptPinHasher(4) });
    await waitFor('postgres up', () => node.runtime.readiness('test').parts.find((p) => p.name === 'postgres')?.ready);
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
  });

  it('answers 503 SMS_UNAVAILABLE and keeps neither the code nor the budget it reserved', async () => {
    const phone = '+221771000201';
    const res = await register(node, phone);
    expect(res).toMatchObject({ status: 503, body: { code: 'SMS_UNAVAILABLE' } });
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      expect((await sql.query(`SELECT 1 FROM one_time_codes WHERE phone = $1`, [phone])).rowCount).toBe(0);
      const budget = await sql.query<{ sent: number }>(`SELECT sent FROM sms_budget WHERE phone = $1`, [phone]);
      expect(budget.rows.every((r) => r.sent === 0)).toBe(true);
    } finally {
      await sql.end();
    }
    // No cooldown was started either: an immediate retry reaches the gateway again (and fails the same way).
    expect((await register(node, phone)).body.code).toBe('SMS_UNAVAILABLE');
  });
});
