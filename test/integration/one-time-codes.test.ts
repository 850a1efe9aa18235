// The overall daily SMS budget, with a small policy: the whole utility's SMS spend per day is bounded.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SmsBudgetExceededError } from '../../src/accounts/account-errors.js';
import { DEFAULT_CODE_POLICY, issueCode } from '../../src/accounts/one-time-codes.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

let db: TestDatabase;
let pool: pg.Pool;
let handle: PgHandle;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  handle = poolHandle(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

it('refuses codes past the overall daily budget, across phones, until the next day', async () => {
  const policy = { ...DEFAULT_CODE_POLICY, smsOverallPerDay: 3 };
  const secret = Buffer.alloc(32, 7);
  const sent: string[] = [];
  const now = Date.UTC(2026, 10, 25, 10);
  const issue = (phone: string, at = now) => issueCode(handle, { phone, purpose: 'verify_phone', now: at, secret, policy }, async () => void sent.push(phone));
  await issue('+221771000301');
  await issue('+221771000302');
  await issue('+221771000303');
  await expect(issue('+221771000304')).rejects.toBeInstanceOf(SmsBudgetExceededError);
  expect(sent).toHaveLength(3);
  await issue('+221771000304', now + 86_400_000);
  expect(sent).toHaveLength(4);
});
