// Tells an outage of PostgreSQL (retry later) and load on it (retry soon) from a bug or a broken schema (a crash).
import { ServiceUnavailableError, errorMessage } from '../../errors/app-error.js';

const OUTAGE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** True when the error says the server cannot be reached or is going away, not that the SQL is wrong. */
export function isPostgresOutage(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (OUTAGE_ERRNOS.has(code)) return true;
  // SQLSTATE class 08 (connection exception) except 08P01 (protocol violation: a configuration bug, e.g. a
  // startup parameter PgBouncer refuses), 57P01-03 (shutdown, cannot connect now), 53300 (too many connections).
  if ((code.startsWith('08') && code !== '08P01') || /^57P0[1-3]$/.test(code) || code === '53300') return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout expired|Connection ended|server closed the connection/i.test(msg);
}

/**
 * True when the server is reachable but the work did not fit in time: pg-pool's acquire timeout (every connection
 * busy for PG_ACQUIRE_TIMEOUT_MS), pg's client-side query timeout (PG_QUERY_TIMEOUT_MS) or the server's
 * statement_timeout (57014). Load, not an outage and not a bug.
 */
export function isPostgresBusy(error: unknown): boolean {
  if (error instanceof DatabaseBusyError) return true;
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e?.code === '57014') return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /^(timeout exceeded when trying to connect|Query read timeout)$/.test(msg);
}

/** PostgreSQL is up but saturated (no free connection in time, or a query slower than its timeout): retry soon. */
export class DatabaseBusyError extends ServiceUnavailableError {
  constructor(cause: unknown, retryAfterMs = 1_000) {
    super('postgres', `The database is busy (${errorMessage(cause)}): try again shortly.`, retryAfterMs, 'DATABASE_BUSY', { cause });
  }
}
