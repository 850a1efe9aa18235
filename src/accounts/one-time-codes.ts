// One-time codes sent by SMS: stored as HMACs, expiring, with a resend cooldown, daily SMS budgets
// (per phone and overall) and a limit of wrong tries after which the code is burnt.
import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { PgHandle } from '../contracts/postgres.js';
import { CodeCooldownError, SmsBudgetExceededError } from './account-errors.js';

export type CodePurpose = 'verify_phone' | 'pin_reset';

export interface CodePolicy {
  /** @defaultValue 10 minutes */
  readonly ttlMs: number;
  /** Wrong tries before the code is burnt. @defaultValue 5 */
  readonly maxAttempts: number;
  /** @defaultValue 60 s */
  readonly resendCooldownMs: number;
  /** @defaultValue 5 */
  readonly smsPerPhonePerDay: number;
  /** @defaultValue 20_000 */
  readonly smsOverallPerDay: number;
}

export const DEFAULT_CODE_POLICY: CodePolicy = { ttlMs: 10 * 60_000, maxAttempts: 5, resendCooldownMs: 60_000, smsPerPhonePerDay: 5, smsOverallPerDay: 20_000 };

const OVERALL = '*';
const DAY_MS = 86_400_000;

const codeHash = (secret: Buffer, phone: string, code: string) => createHmac('sha256', secret).update(`${phone}:${code}`).digest();

/** Budget day in UTC (Senegal's own time zone), and the time until the next one. */
function budgetDay(now: number): { day: string; msToNextDay: number } {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  return { day: new Date(start).toISOString().slice(0, 10), msToNextDay: start + DAY_MS - now };
}

/**
 * Reserves a code (cooldown, budgets), sends it with `send`, and releases the reservation if sending fails,
 * so a gateway outage neither consumes the code nor spends the budget.
 */
export async function issueCode(
  db: PgHandle,
  args: { phone: string; purpose: CodePurpose; now: number; secret: Buffer; policy: CodePolicy },
  send: (code: string) => Promise<void>,
): Promise<void> {
  const { phone, purpose, now, policy } = args;
  const { day, msToNextDay } = budgetDay(now);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const id = randomUUID();
  await db.transaction(async (c) => {
    // The budget row is locked first: concurrent requests for one phone queue here, then see each other's code.
    const perPhone = await bump(c, day, phone, 1);
    if (perPhone > policy.smsPerPhonePerDay) throw new SmsBudgetExceededError(msToNextDay);
    const last = await c.query<{ created_at: Date }>(
      `SELECT created_at FROM one_time_codes WHERE phone = $1 AND purpose = $2 AND created_at > $3 ORDER BY created_at DESC LIMIT 1`,
      [phone, purpose, new Date(now - policy.resendCooldownMs)],
    );
    if (last.rows[0]) throw new CodeCooldownError(last.rows[0].created_at.getTime() + policy.resendCooldownMs - now);
    const overall = await bump(c, day, OVERALL, 1);
    if (overall > policy.smsOverallPerDay) throw new SmsBudgetExceededError(msToNextDay);
    await c.query(
      `INSERT INTO one_time_codes (id, phone, purpose, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, phone, purpose, codeHash(args.secret, phone, code), new Date(now), new Date(now + policy.ttlMs)],
    );
  });
  try {
    await send(code);
  } catch (e) {
    await db.transaction(async (c) => {
      await c.query(`DELETE FROM one_time_codes WHERE id = $1`, [id]);
      await bump(c, day, phone, -1);
      await bump(c, day, OVERALL, -1);
    });
    throw e;
  }
}

async function bump(c: PoolClient, day: string, phone: string, by: number): Promise<number> {
  const { rows } = await c.query<{ sent: number }>(
    `INSERT INTO sms_budget (day, phone, sent) VALUES ($1, $2, GREATEST($3, 0))
     ON CONFLICT (day, phone) DO UPDATE SET sent = GREATEST(sms_budget.sent + $3, 0) RETURNING sent`,
    [day, phone, by],
  );
  return rows[0]!.sent;
}

export type CodeCheck = { ok: true } | { ok: false; attemptsLeft: number };

/** Checks a code inside the caller's transaction: a wrong try is counted, a right one consumes the code. */
export async function checkCode(
  c: PoolClient,
  args: { phone: string; purpose: CodePurpose; code: string; now: number; secret: Buffer; policy: CodePolicy },
): Promise<CodeCheck> {
  const { rows } = await c.query<{ id: string; code_hash: Buffer; attempts: number; expires_at: Date }>(
    `SELECT id, code_hash, attempts, expires_at FROM one_time_codes
      WHERE phone = $1 AND purpose = $2 AND consumed_at IS NULL ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
    [args.phone, args.purpose],
  );
  const row = rows[0];
  if (!row || row.expires_at.getTime() <= args.now || row.attempts >= args.policy.maxAttempts) return { ok: false, attemptsLeft: 0 };
  const given = codeHash(args.secret, args.phone, args.code);
  if (given.length === row.code_hash.length && timingSafeEqual(given, row.code_hash)) {
    await c.query(`UPDATE one_time_codes SET consumed_at = $2 WHERE id = $1`, [row.id, new Date(args.now)]);
    return { ok: true };
  }
  await c.query(`UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1`, [row.id]);
  return { ok: false, attemptsLeft: Math.max(0, args.policy.maxAttempts - row.attempts - 1) };
}
