// Messages of the SQL source actors (one per utility database): a named query in, its rows out.
import type { Reply } from '../../contracts/reply.js';
import type { Asker } from '../../actor-behaviour.js';
import type { AnySourceQuery, ParamValue } from './source-query.js';

/** A parameter value as both drivers take it (mssql infers its SQL type, pg its text form). */
export type SourceParam = ParamValue;

/** One row as the driver returned it; each query's own mapper normalises numbers, dates and nulls. */
export type SourceRow = Readonly<Record<string, unknown>>;

/**
 * What a source needs of a named query: its name (logs, errors), the T-SQL run on SQL Server, the PostgreSQL twin
 * run in development, tests and the demo, and the parameters both name as `@name`.
 */
export interface SourceQuery {
  readonly name: string;
  readonly tsql: string;
  readonly twin: string;
  readonly params: Readonly<Record<string, SourceParam>>;
}

export type SourceMessage = { type: 'query'; query: SourceQuery; replyTo: Reply<readonly SourceRow[]> };

/** The actor of a configured source: `source-sic`, `source-histh2mc`, `source-bi_ods` … */
export function sourceActorName(source: string): string {
  return `source-${source}`;
}

/** Asks the named query's source actor to run it with `params` (the actor's circuit, query deadline and retry apply). */
export function askSource(
  asker: Asker,
  query: Pick<AnySourceQuery, 'name' | 'source' | 'tsql' | 'twin'>,
  params: Readonly<Record<string, SourceParam>>,
  deadlineMs: number,
): Promise<readonly SourceRow[]> {
  return asker.ask<SourceMessage, 'query'>(
    asker.ref<SourceMessage>(sourceActorName(query.source)),
    'query',
    { query: { name: query.name, tsql: query.tsql, twin: query.twin, params } },
    deadlineMs,
  );
}
