// One-time codes sent by SMS: stored as HMACs, expiring, with a resend cooldown, daily SMS budgets
// (per phone and overall) and a limit of wrong tries after which the code is burnt.
import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { SmsDeliveryUnknownError } from '../adapters/sms/sms-errors.js';
import { CodeCooldownError } from './account-errors.js';
import type { AuthWatch } from './auth-watch.js';
import { releaseSms, reserveOverallSms, reservePhoneSms, type SmsBudgetPolicy } from './sms-budget.js';

export type CodePurpose = 'verify_phone' | 'pin_reset';

export interface CodePolicy extends SmsBudgetPolicy {
  /** @defaultValue 10 minutes */
  readonly ttlMs: number;
  /** Wrong tries before the code is burnt. @defaultValue 5 */
  readonly maxAttempts: number;
  /** @defaultValue 60 s */
  readonly resendCooldownMs: number;
}

export const DEFAULT_CODE_POLICY: CodePolicy = { ttlMs: 10 * 60_000, maxAttempts: 5, resendCooldownMs: 60_000, smsPerPhonePerHour: 3, smsPerPhonePerDay: 5, smsOverallPerDay: 20_000 };

/** The PIN hash waiting on the latest unconsumed registration code of a phone, if any. */
export async function pendingPinHash(db: PgHandle, phone: string, now: number): Promise<string | undefined> {
  const { rows } = await db.query<{ pending_pin_hash: string | null }>(
    `SELECT pending_pin_hash FROM one_time_codes WHERE phone = $1 AND purpose = 'verify_phone' AND consumed_at IS NULL AND expires_at > $2
      ORDER BY created_at DESC LIMIT 1`,
    [phone, new Date(now)],
  );
  return rows[0]?.pending_pin_hash ?? undefined;
}

const codeHash = (secret: Buffer, phone: string, code: string) => createHmac('sha256', secret).update(`${phone}:${code}`).digest();

/** What a registration code confirms once checked: the PIN and names chosen at registration. */
export interface PendingRegistration {
  readonly pinHash: string;
  readonly firstName: string;
  readonly lastName: string;
}

/**
 * Reserves a code (cooldown, budgets), sends it with `send`, and releases the reservation only if the SMS
 * surely did not go out, so a gateway outage neither consumes the code nor spends the budget. When the
 * outcome is unknown (SMS_DELIVERY_UNKNOWN: the gateway took the request and timed out) the code, its
 * cooldown and its place in the budgets stay, since the SMS may still arrive: a slow gateway must not
 * let anyone send SMS after SMS to one phone.
 */
export async function issueCode(
  db: PgHandle,
  args: { phone: string; purpose: CodePurpose; now: number; secret: Buffer; policy: CodePolicy; pending?: PendingRegistration; watch?: AuthWatch | undefined },
  send: (code: string) => Promise<void>,
): Promise<void> {
  const { phone, purpose, now, policy } = args;
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const id = randomUUID();
  await db.transaction(async (c) => {
    // The budget row is locked first: concurrent requests for one phone queue here, then see each other's code.
    await reservePhoneSms(c, phone, now, policy, args.watch);
    const last = await c.query<{ created_at: Date }>(
      `SELECT created_at FROM one_time_codes WHERE phone = $1 AND purpose = $2 AND created_at > $3 ORDER BY created_at DESC LIMIT 1`,
      [phone, purpose, new Date(now - policy.resendCooldownMs)],
    );
    if (last.rows[0]) throw new CodeCooldownError(last.rows[0].created_at.getTime() + policy.resendCooldownMs - now);
    await reserveOverallSms(c, now, policy, args.watch);
    await c.query(
      `INSERT INTO one_time_codes (id, phone, purpose, code_hash, created_at, expires_at, pending_pin_hash, pending_first_name, pending_last_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [id, phone, purpose, codeHash(args.secret, phone, code), new Date(now), new Date(now + policy.ttlMs), args.pending?.pinHash ?? null, args.pending?.firstName ?? null, args.pending?.lastName ?? null],
    );
  });
  try {
    await send(code);
  } catch (e) {
    if (e instanceof SmsDeliveryUnknownError) throw new SmsDeliveryUnknownError(e.message, policy.resendCooldownMs, { cause: e });
    await db.transaction(async (c) => {
      await c.query(`DELETE FROM one_time_codes WHERE id = $1`, [id]);
      await releaseSms(c, phone, now);
    });
    throw e;
  }
}

export type CodeCheck = { ok: true; pending: PendingRegistration | undefined } | { ok: false; attemptsLeft: number };

/**
 * Checks a code inside the caller's transaction against every live code of the phone (a second registration
 * must not void the first one's code): a match consumes that code; a miss counts a wrong try on each.
 */
export async function checkCode(
  c: PoolClient,
  args: { phone: string; purpose: CodePurpose; code: string; now: number; secret: Buffer; policy: CodePolicy },
): Promise<CodeCheck> {
  const { rows } = await c.query<{ id: string; code_hash: Buffer; attempts: number; pending_pin_hash: string | null; pending_first_name: string | null; pending_last_name: string | null }>(
    `SELECT id, code_hash, attempts, pending_pin_hash, pending_first_name, pending_last_name FROM one_time_codes
      WHERE phone = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3 AND attempts < $4
      ORDER BY created_at DESC FOR UPDATE`,
    [args.phone, args.purpose, new Date(args.now), args.policy.maxAttempts],
  );
  const given = codeHash(args.secret, args.phone, args.code);
  const row = rows.find((r) => r.code_hash.length === given.length && timingSafeEqual(given, r.code_hash));
  if (row) {
    await c.query(`UPDATE one_time_codes SET consumed_at = $2 WHERE id = $1`, [row.id, new Date(args.now)]);
    const pending = row.pending_pin_hash
      ? { pinHash: row.pending_pin_hash, firstName: row.pending_first_name ?? '', lastName: row.pending_last_name ?? '' }
      : undefined;
    return { ok: true, pending };
  }
  if (rows.length === 0) return { ok: false, attemptsLeft: 0 };
  await c.query(`UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
  return { ok: false, attemptsLeft: Math.max(0, args.policy.maxAttempts - rows[0]!.attempts - 1) };
}
