// Issue 8, defect 10: a one-time code whose SMS may have gone out (the gateway took the request and never
// answered) keeps its cooldown and its place in the budget; only a definite refusal gives them back.
// The fake gateway's own record of calls is the witness of what reached it.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import type { RunningNode } from '../../src/node.js';
import { FakeGateway, type Step } from '../support/fake-sms-gateway.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let sql: pg.Client;
let gateway: FakeGateway | undefined;
let node: RunningNode | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});
afterEach(async () => {
  await node?.stop();
  await gateway?.stop();
  node = undefined;
  gateway = undefined;
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

/** A node whose SMS go to a fake gateway following `script`, each call bounded by `timeoutMs`. */
async function start(script: Step[], timeoutMs: number): Promise<{ node: RunningNode; gateway: FakeGateway }> {
  gateway = new FakeGateway(script);
  await gateway.start();
  node = await startTestNode({ DATABASE_URL: db.url, SMS_GATEWAY_URL: gateway.url, SMS_GATEWAY_TIMEOUT_MS: String(timeoutMs) }, { hasher: bcryptPinHasher(4) });
  const n = node;
  await waitFor('postgres up', () => n.runtime.readiness('test').parts.find((p) => p.name === 'postgres')?.ready);
  return { node, gateway };
}

const register = async (node: RunningNode, phone: string) => {
  const res = await fetch(`${node.apiUrl}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone, firstName: 'Ibrahima', lastName: 'Ba', pin: '1357' }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
};

const liveCodes = async (phone: string) => (await sql.query(`SELECT 1 FROM one_time_codes WHERE phone = $1`, [phone])).rowCount;
const budget = async (phone: string) => {
  const { rows } = await sql.query<{ phone: string; sent: number }>(`SELECT phone, sent FROM sms_budget WHERE phone = ANY($1::text[])`, [[phone, '*']]);
  return { phone: rows.find((r) => r.phone === phone)?.sent ?? 0, overall: rows.find((r) => r.phone === '*')?.sent ?? 0 };
};

describe('SMS outcome unknown (defect 10)', () => {
  it('a gateway that took the request and timed out keeps the code, the cooldown and the budget: a retry sends nothing', async () => {
    const { node, gateway } = await start(['hang'], 150);
    const phone = '+221771000310';
    const before = await budget(phone);
    const first = await register(node, phone);
    expect(first).toMatchObject({ status: 503, body: { code: 'SMS_DELIVERY_UNKNOWN' } });
    expect(Number(first.retryAfter)).toBeGreaterThan(0);
    const reached = gateway.calls.filter((c) => c.telephone === '221771000310').length;
    expect(reached).toBeGreaterThan(0); // the gateway got it: the SMS may well arrive

    expect(await liveCodes(phone)).toBe(1);
    expect(await budget(phone)).toEqual({ phone: before.phone + 1, overall: before.overall + 1 });
    const again = await register(node, phone);
    expect(again).toMatchObject({ status: 429, body: { code: 'CODE_COOLDOWN' } });
    expect(gateway.calls.filter((c) => c.telephone === '221771000310')).toHaveLength(reached);
  });

  it('a definite refusal by the gateway releases the code, the cooldown and the budget', async () => {
    const { node, gateway } = await start(['refuse'], 5_000); // a generous bound: a slow machine must not turn the refusal into a timeout
    const phone = '+221771000311';
    const before = await budget(phone);
    expect(await register(node, phone)).toMatchObject({ status: 422, body: { code: 'SMS_REJECTED' } });
    expect(await liveCodes(phone)).toBe(0);
    expect(await budget(phone)).toEqual(before);
    expect(await register(node, phone)).toMatchObject({ status: 422, body: { code: 'SMS_REJECTED' } });
    expect(gateway.calls.filter((c) => c.telephone === '221771000311')).toHaveLength(2);
  });
});
