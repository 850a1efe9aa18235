// What the meter-link services lean on: the database, the utility's data, the shared limiter, the clock.
import type { LimitedAction } from '../adapters/cache/ip-limiter.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { Clock } from '../clock.js';
import type { CustomerDataReader } from '../customer-data/index.js';
import type { Queryable } from './meter-access.js';

export interface MeterLinkDeps {
  db(): Promise<PgHandle>;
  /** Reads SIC (prepaid customers, postpaid accounts) through the cache; stale answers are good enough to link. */
  readonly reader: Pick<CustomerDataReader, 'read'>;
  /** Counts one request under an action's limit; rejects with TooManyRequestsError (429) over it. */
  readonly limit: (action: LimitedAction, key: string) => Promise<void>;
  readonly clock: Clock;
  /** @defaultValue crypto.randomUUID */
  readonly newId?: () => string;
  /**
   * Called once a transaction that made a link active (and queued its meter for SIC) has committed: wakes the SIC
   * registrar (kickSicRegistrar), so the meter need not wait for its next poll. @defaultValue nothing
   */
  readonly activated?: () => void;
  /**
   * Called once a transaction that took links out of `active` has committed: the process's link cache forgets them
   * and announces them to the other instances (link-cache.ts). @defaultValue nothing
   */
  readonly linksEnded?: (linkIds: readonly string[]) => void;
}

/** The user's row, locked: every change to a user's links and default runs under it, so two cannot interleave. */
export async function lockUser(client: Queryable, userId: string): Promise<{ phone: string | null; proved: boolean; firstName: string | null } | undefined> {
  const { rows } = await client.query<{ phone: string | null; phone_proved_at: Date | null; first_name: string | null }>(
    `SELECT phone, phone_proved_at, first_name FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
    [userId],
  );
  const row = rows[0];
  return row ? { phone: row.phone, proved: row.phone_proved_at !== null, firstName: row.first_name } : undefined;
}

/** Whether the user has a default meter (an active link marked default). */
export async function hasDefault(client: Queryable, userId: string): Promise<boolean> {
  const { rowCount } = await client.query(`SELECT 1 FROM meter_links WHERE user_id = $1 AND is_default`, [userId]);
  return (rowCount ?? 0) > 0;
}
