// The SIC registrar: drains the due rows of the sic_registrations outbox (0015_meter_links.sql) into SIC's
// compteurs_app_mobile through the `source-sic` actor, retrying each row with backoff until SIC accepts it.
import type { Asker } from '../actor-behaviour.js';
import { askSource } from '../adapters/mssql/source-messages.js';
import { queryParams } from '../adapters/mssql/source-query.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { type BackoffPolicy, backoffDelay } from '../backoff.js';
import type { Clock } from '../clock.js';
import { sourceAskDeadlineMs } from '../config/sources.js';
import type { MeterKind } from '../contracts/meters-messages.js';
import { isSourceOutageForReads, registerAppMeter } from '../customer-data/index.js';
import { errorCode, errorMessage } from '../errors/app-error.js';

/** One meter to register: the outbox row's key. */
export interface SicRegistration {
  readonly kind: MeterKind;
  readonly meter: string;
}

export interface SicRegistrarDeps {
  db(): Promise<PgHandle>;
  /** Runs registerAppMeter on SIC; resolves once SIC accepted it (inserted, or found the meter already there). */
  register(registration: SicRegistration): Promise<void>;
  readonly clock: Clock;
  /** Rows claimed per batch. @defaultValue 20 */
  readonly batchSize?: number;
  /**
   * How long a claimed row stays out of the other registrars' reach while this one asks SIC: longer than one
   * registration can take (the source's deadline, twice with its one retry). @defaultValue 60_000
   */
  readonly leaseMs?: number;
  /** Delay before a failed row's next attempt. @defaultValue 1 s doubling, +20 % jitter, at most 5 min */
  readonly backoff?: Partial<BackoffPolicy>;
  /** @defaultValue Math.random */
  readonly random?: () => number;
}

export interface SicDrainResult {
  /** Rows this registrar claimed (rows another one holds are skipped, not counted). */
  readonly claimed: number;
  readonly registered: number;
  readonly failed: number;
  /** The last failure of the batch, as `CODE: message`. */
  readonly lastError: string | null;
}

export const SIC_BACKOFF: BackoffPolicy = { minMs: 1_000, maxMs: 300_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };

/**
 * Claims a batch in one short transaction (FOR UPDATE SKIP LOCKED, then next_attempt_at moved past a lease, so two
 * registrars never hold one row), asks SIC for each row with no transaction open, then records each outcome in its own
 * statement: registered_at, or attempts + 1 with the error and the next attempt after a backoff. A registrar that dies
 * between the two leaves its rows to the others once the lease ends; SIC's insert is idempotent (a retry after a lost
 * reply inserts nothing), so a row registered twice still lands once.
 */
export class SicRegistrar {
  readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;

  constructor(private readonly deps: SicRegistrarDeps) {
    this.batchSize = deps.batchSize ?? 20;
    this.leaseMs = deps.leaseMs ?? 60_000;
    this.policy = { ...SIC_BACKOFF, ...deps.backoff };
    this.random = deps.random ?? Math.random;
  }

  /** One batch of due rows. Throws only when PostgreSQL cannot be reached; SIC's failures are recorded on the rows. */
  async drainBatch(): Promise<SicDrainResult> {
    const db = await this.deps.db();
    const claimedAt = this.now();
    const rows = await db.transaction(async (client) => {
      const { rows: due } = await client.query<{ kind: MeterKind; meter: string; attempts: number }>(
        `SELECT kind, meter, attempts FROM sic_registrations
          WHERE registered_at IS NULL AND next_attempt_at <= $1
          ORDER BY next_attempt_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [claimedAt, this.batchSize],
      );
      if (due.length > 0) {
        await client.query(
          `UPDATE sic_registrations r SET next_attempt_at = $3 FROM unnest($1::text[], $2::text[]) AS d(kind, meter) WHERE r.kind = d.kind AND r.meter = d.meter`,
          [due.map((d) => d.kind), due.map((d) => d.meter), new Date(claimedAt.getTime() + this.leaseMs)],
        );
      }
      return due;
    });

    let registered = 0;
    let failed = 0;
    let lastError: string | null = null;
    for (const [i, row] of rows.entries()) {
      try {
        await this.deps.register({ kind: row.kind, meter: row.meter });
      } catch (error) {
        failed++;
        lastError = `${errorCode(error) ?? 'ERROR'}: ${errorMessage(error)}`.slice(0, 1_000);
        const attempts = row.attempts + 1;
        const next = new Date(this.now().getTime() + backoffDelay(this.policy, attempts - 1, this.random()));
        await db.query(
          `UPDATE sic_registrations SET attempts = $3, last_error = $4, next_attempt_at = $5 WHERE kind = $1 AND meter = $2 AND registered_at IS NULL`,
          [row.kind, row.meter, attempts, lastError, next],
        );
        // SIC out of reach would refuse the rest the same way (or make each wait out its deadline, past the lease):
        // they wait with this row, not attempted, so not counted. A query error is this row's own: go on.
        if (isSourceOutageForReads(error)) {
          const rest = rows.slice(i + 1);
          if (rest.length > 0) await this.release(db, rest, next);
          break;
        }
        continue;
      }
      registered++;
      await db.query(`UPDATE sic_registrations SET registered_at = $3, last_error = NULL WHERE kind = $1 AND meter = $2 AND registered_at IS NULL`, [
        row.kind,
        row.meter,
        this.now(),
      ]);
    }
    return { claimed: rows.length, registered, failed, lastError };
  }

  /** Rows not yet registered (due or waiting for their next attempt). */
  async pending(): Promise<number> {
    const db = await this.deps.db();
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM sic_registrations WHERE registered_at IS NULL`);
    return rows[0]?.n ?? 0;
  }

  /** Gives claimed rows back, due at `at`, without counting an attempt. */
  private async release(db: PgHandle, rows: readonly SicRegistration[], at: Date): Promise<void> {
    await db.query(
      `UPDATE sic_registrations r SET next_attempt_at = $3 FROM unnest($1::text[], $2::text[]) AS d(kind, meter)
        WHERE r.kind = d.kind AND r.meter = d.meter AND r.registered_at IS NULL`,
      [rows.map((d) => d.kind), rows.map((d) => d.meter), at],
    );
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }
}

/** `register` through the `source-sic` actor (its circuit, deadline and one retry of a deadlock or a lost login). */
export function registerThroughSic(asker: Asker, queryTimeoutMs: number): (registration: SicRegistration) => Promise<void> {
  return async ({ kind, meter }) => {
    const params = queryParams(registerAppMeter, { meter, type: kind });
    await askSource(asker, registerAppMeter, params, sourceAskDeadlineMs(queryTimeoutMs));
  };
}
