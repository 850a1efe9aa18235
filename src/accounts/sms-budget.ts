// The SMS budgets of one-time codes, reserved inside the transaction that stores the code: at most
// `smsPerPhonePerHour` codes to one phone in any hour (so the public routes cannot bomb a phone or spend its day
// in minutes); past `smsPerPhonePerDay` codes in a UTC day, one an hour (so whoever keeps asking for a number can
// never spend its day: its owner gets a code within the hour, and the phone at most one more an hour); and
// `smsOverallPerDay` in all per UTC day (the `sms_budget` rows).
import type { PoolClient } from 'pg';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { deleteInChunks } from '../adapters/postgres/delete-in-chunks.js';
import { SmsBudgetExceededError } from './account-errors.js';
import type { AuthWatch, SmsLimit } from './auth-watch.js';

export interface SmsBudgetPolicy {
  /** Codes sent to one phone in any hour, whoever asks. @defaultValue 3 */
  readonly smsPerPhonePerHour: number;
  /** Codes to one phone in a UTC day at the hourly pace; beyond them, one an hour. @defaultValue 5 */
  readonly smsPerPhonePerDay: number;
  /** @defaultValue 20_000 */
  readonly smsOverallPerDay: number;
}

const OVERALL = '*';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Budget day in UTC (Senegal's own time zone), and the time until the next one. */
export function budgetDay(now: number): { day: string; msToNextDay: number } {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  return { day: new Date(start).toISOString().slice(0, 10), msToNextDay: start + DAY_MS - now };
}

async function bump(c: PoolClient, day: string, phone: string, by: number): Promise<number> {
  const { rows } = await c.query<{ sent: number }>(
    `INSERT INTO sms_budget (day, phone, sent) VALUES ($1, $2, GREATEST($3, 0))
     ON CONFLICT (day, phone) DO UPDATE SET sent = GREATEST(sms_budget.sent + $3, 0) RETURNING sent`,
    [day, phone, by],
  );
  return rows[0]!.sent;
}

/**
 * Counts one SMS to `phone` against the per-phone budgets (locking the phone's budget row first, so concurrent
 * requests for one phone queue here). Throws SMS_BUDGET_EXCEEDED (Retry-After: when a slot frees) over a limit.
 */
export async function reservePhoneSms(c: PoolClient, phone: string, now: number, policy: SmsBudgetPolicy, watch: AuthWatch | undefined): Promise<void> {
  const { day, msToNextDay } = budgetDay(now);
  const refuse = (limit: SmsLimit, retryAfterMs: number, message?: string) => {
    watch?.smsRefused(limit, day);
    return new SmsBudgetExceededError(retryAfterMs, message);
  };
  // A refusal rolls the transaction back, and this count with it.
  const pastDay = (await bump(c, day, phone, 1)) > policy.smsPerPhonePerDay;
  const { rows } = await c.query<{ sent: number; oldest: Date | null; newest: Date | null }>(
    `SELECT count(*)::int AS sent, min(created_at) AS oldest, max(created_at) AS newest FROM one_time_codes WHERE phone = $1 AND created_at > $2`,
    [phone, new Date(now - HOUR_MS)],
  );
  const hour = rows[0]!;
  if (pastDay && hour.sent >= 1) {
    // The day's codes are out: one an hour from now on, the slot freeing an hour after the last one.
    throw refuse('phone-day', Math.min((hour.newest?.getTime() ?? now) + HOUR_MS - now, msToNextDay), 'This number had its codes for today; the next one can be sent within the hour.');
  }
  if (hour.sent >= policy.smsPerPhonePerHour) {
    throw refuse('phone-hour', (hour.oldest?.getTime() ?? now) + HOUR_MS - now, 'Too many codes were sent to this number in the last hour; try again later.');
  }
}

/** Counts one SMS against the overall daily budget; throws SMS_BUDGET_EXCEEDED once it is spent. */
export async function reserveOverallSms(c: PoolClient, now: number, policy: SmsBudgetPolicy, watch: AuthWatch | undefined): Promise<void> {
  const { day, msToNextDay } = budgetDay(now);
  const sent = await bump(c, day, OVERALL, 1);
  if (sent > policy.smsOverallPerDay) {
    watch?.smsRefused('overall', day);
    throw new SmsBudgetExceededError(msToNextDay, 'No more SMS can be sent today; try again tomorrow.');
  }
  watch?.smsReserved(day, sent, policy.smsOverallPerDay);
}

/** Gives back what reserving counted (the SMS surely did not go out). */
export async function releaseSms(c: PoolClient, phone: string, now: number): Promise<void> {
  const { day } = budgetDay(now);
  await bump(c, day, phone, -1);
  await bump(c, day, OVERALL, -1);
}

/** Deletes the budget rows of past budget days (run by the worker's job reaper with its purge); the rows deleted. */
export function purgePastBudgetDays(db: PgHandle, now: number): Promise<number> {
  return deleteInChunks(db, `DELETE FROM sms_budget WHERE (day, phone) IN (SELECT day, phone FROM sms_budget WHERE day < $1::date LIMIT $2)`, budgetDay(now).day);
}
