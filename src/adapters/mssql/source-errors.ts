// The typed errors of the utility's SQL Server sources, and how a driver error is classified (outage, retry once, query).
import { AppError } from '../../errors/app-error.js';

/**
 * Why a source cannot serve now: still connecting, its circuit open or probing, the query's connection lost, or its
 * actor not running (restarting, stopped, or not started on this node).
 */
export type SourceUnavailableReason = 'connecting' | 'circuit-open' | 'half-open' | 'connection-lost' | 'not-running';

/** Thrown while a source cannot serve (circuit open, connecting): retry after `retryAfterMs`. */
export class SourceUnavailableError extends AppError {
  readonly code = 'SOURCE_UNAVAILABLE';
  constructor(
    readonly source: string,
    readonly retryAfterMs: number,
    readonly reason: SourceUnavailableReason,
    options?: { cause?: unknown },
  ) {
    super(`The data source ${source} is unavailable (${reason}).`, options);
  }
}

/** Thrown when a query passed our client-side deadline: it was cancelled and its connection retired. */
export class SourceTimeoutError extends AppError {
  readonly code = 'SOURCE_TIMEOUT';
  constructor(
    readonly source: string,
    readonly query: string,
    readonly deadlineMs: number,
  ) {
    super(`The query ${query} on ${source} did not finish within ${deadlineMs} ms.`);
  }
}

/** Thrown when the source answered a query with an error (not an outage: the circuit is untouched). */
export class SourceQueryError extends AppError {
  readonly code = 'SOURCE_QUERY_FAILED';
  constructor(
    readonly source: string,
    readonly query: string,
    readonly number: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`The query ${query} on ${source} failed${number === undefined ? '' : ` (error ${number})`}.`, options);
  }
}

/** Thrown at connect when the server did not negotiate TLS: the login is never sent. */
export class SourceNotEncryptedError extends AppError {
  readonly code = 'SOURCE_NOT_ENCRYPTED';
  constructor(readonly source: string) {
    super(`The data source ${source} did not negotiate encryption; the connection was refused before the login.`);
  }
}

const DEADLOCK = 1205;
// tedious's own list (transient-error-lookup.js): a login refused for these may succeed a moment later.
const TRANSIENT_LOGIN = new Set([4060, 10928, 10929, 40197, 40501, 40613]);

/** The driver error and those it wraps (mssql puts tedious's under `originalError`). */
function chain(error: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let e: unknown = error;
  while (e && typeof e === 'object' && out.length < 5) {
    const rec = e as Record<string, unknown>;
    out.push(rec);
    e = rec.originalError ?? rec.cause;
  }
  return out;
}

/** Deadlock victim (1205) or a transient login refusal: the same query is tried once more. */
export function isRetriedOnce(error: unknown): boolean {
  return chain(error).some(
    (e) => e.number === DEADLOCK || (e.code === 'ELOGIN' && (e.isTransient === true || TRANSIENT_LOGIN.has(e.number as number))),
  );
}

const OUTAGE_CODES = new Set(['ESOCKET', 'ETIMEOUT', 'ECONNCLOSED', 'ENOTOPEN', 'ECLOSE', 'ELOGIN', 'EINSTLOOKUP', 'ECONNRESET', 'ECONNREFUSED']);

/**
 * Whether an error means the source cannot be reached or served (it counts toward the circuit), rather than a
 * query the server answered with an error. Our own deadline and a refused plain-text connection are outages.
 */
export function isSourceOutage(error: unknown): boolean {
  if (error instanceof SourceTimeoutError || error instanceof SourceNotEncryptedError || error instanceof SourceUnavailableError) return true;
  if (error instanceof SourceQueryError) return false;
  return chain(error).some(
    (e) => OUTAGE_CODES.has(e.code as string) || e.name === 'ConnectionError' || e.name === 'TimeoutError' || e.name === 'AggregateError',
  );
}
