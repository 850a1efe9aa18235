// Reads customer data: a named read asked of its source actor, mapped, through the cache with the read's policy.
import type { Asker } from '../actor-behaviour.js';
import type { Cache } from '../adapters/cache/cache.js';
import type { CacheMessage } from '../adapters/cache/cache-messages.js';
import { StaleReads, sourceKey } from '../adapters/cache/stale-reads.js';
import { askSource } from '../adapters/mssql/source-messages.js';
import { type ParamShape, type QueryInput, type SourceRead, mapRows, queryParams } from '../adapters/mssql/source-query.js';
import type { Clock } from '../clock.js';
import { sourceAskDeadlineMs } from '../config/sources.js';
import { errorCode } from '../errors/app-error.js';
import { readCachePolicy } from './cache-policies.js';
import { NOT_RUNNING } from './source-outage.js';

/** `stale` and `ageMs` when any of the answers came from an older cache entry (the oldest age is the answer's). */
export function staleness(...answers: ReadonlyArray<Pick<CustomerDataAnswer<unknown>, 'stale' | 'ageMs'>>): { stale?: true; ageMs?: number } {
  const stale = answers.filter((a) => a.stale);
  return stale.length === 0 ? {} : { stale: true, ageMs: Math.round(Math.max(...stale.map((a) => a.ageMs))) };
}

/** A read's answer: `stale` when the source is down and an older answer is served, `ageMs` since it was read. */
export interface CustomerDataAnswer<R> {
  readonly rows: R[];
  readonly stale: boolean;
  readonly ageMs: number;
}

export interface CustomerDataReaderOptions {
  readonly asker: Asker;
  /** The clock the cached answers' ages are measured on. */
  readonly clock: Clock;
  /** The sources' client-side deadline on one query (SQL_QUERY_TIMEOUT_MS). */
  readonly queryTimeoutMs: number;
  /** How long the cache actor may take to lend its handle. @defaultValue 1000 */
  readonly cacheLendMs?: number;
}

// The source can be out of reach in these ways; an older answer then beats an error. A query the source answered
// with an error (SOURCE_QUERY_FAILED) or a row the mapper refuses (SOURCE_ROW_INVALID) would fail the same way
// again, and an old answer would hide the fault: those are never answered stale.
const OUTAGES = new Set(['SOURCE_UNAVAILABLE', 'SOURCE_TIMEOUT', ...NOT_RUNNING, 'QUERY_TIMEOUT']);

/** Whether a failed read may be answered from a stale cache entry. */
export function isSourceOutageForReads(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && OUTAGES.has(code);
}

export class CustomerDataReader {
  private readonly reads: StaleReads;
  private readonly askDeadlineMs: number;

  constructor(private readonly options: CustomerDataReaderOptions) {
    const { asker } = options;
    const lendMs = options.cacheLendMs ?? 1_000;
    // A cache that is down, restarting or slow to lend means the read goes to the source: never a failure.
    const cache = (): Promise<Cache | undefined> =>
      asker.ask<CacheMessage, 'lend'>(asker.ref<CacheMessage>('cache'), 'lend', {}, lendMs).catch(() => undefined);
    this.reads = new StaleReads(cache, options.clock, isSourceOutageForReads);
    this.askDeadlineMs = sourceAskDeadlineMs(options.queryTimeoutMs);
  }

  /** The read's rows, mapped; a bad input is a 400 before any source or cache is asked. */
  async read<S extends ParamShape, R>(query: SourceRead<S, R>, input: QueryInput<S>): Promise<CustomerDataAnswer<R>> {
    const params = queryParams(query, input);
    const policy = readCachePolicy(query.name);
    const key = sourceKey(query.source, query.name, policy.version, params);
    const answer = await this.reads.read(key, policy, async () => {
      const rows = await askSource(this.options.asker, query, params, this.askDeadlineMs);
      // Mapped before caching: a row the mapper refuses fails this read and is never kept.
      return mapRows(query, rows);
    });
    return { rows: answer.value, stale: answer.stale, ageMs: answer.ageMs };
  }
}
