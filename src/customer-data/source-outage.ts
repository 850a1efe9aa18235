// The one place a read's failure to reach its source actor becomes the source's own typed error.
import { SourceTimeoutError, SourceUnavailableError } from '../adapters/mssql/source-errors.js';
import { errorCode } from '../errors/app-error.js';

// A source actor that restarts connects again at once; one that is stopped or absent needs an operator. Either way
// the client is told to come back in a few seconds rather than at once.
export const SOURCE_NOT_RUNNING_RETRY_AFTER_MS = 5_000;

// Not ACTOR_CRASHED: the source actor failed on this very query, a fault to see as it is, not an outage.
export const NOT_RUNNING: ReadonlySet<string> = new Set(['ACTOR_RESTARTING', 'ACTOR_STOPPED', 'ACTOR_NOT_FOUND']);

/**
 * The error a read of `query` answers with. The reader has served a stale answer already when it had one, so what
 * reaches here is an outage with nothing cached, or a fault of the query itself (left as it is). The runtime's
 * codes (ACTOR_*, QUERY_TIMEOUT) say which actor failed, not what the client should know: the source is unavailable
 * (503 with Retry-After) or did not answer in time (504), as when the source actor itself says so.
 */
export function asSourceOutage(query: { readonly source: string; readonly name: string }, error: unknown): unknown {
  const code = errorCode(error);
  if (code !== undefined && NOT_RUNNING.has(code)) return new SourceUnavailableError(query.source, SOURCE_NOT_RUNNING_RETRY_AFTER_MS, 'not-running', { cause: error });
  if (code === 'QUERY_TIMEOUT') {
    const deadlineMs = (error as { deadlineMs?: unknown }).deadlineMs;
    return new SourceTimeoutError(query.source, query.name, typeof deadlineMs === 'number' ? deadlineMs : 0);
  }
  return error;
}
