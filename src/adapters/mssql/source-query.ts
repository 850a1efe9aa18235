// A named query on a source as data: T-SQL for production, its PostgreSQL twin, parameters, one zod mapper.
import type { z } from 'zod';
import { ValidationError } from '../../errors/app-error.js';
import type { SourceName } from './source-catalogue.js';
import { SourceRowInvalidError } from './source-row-error.js';

/** A parameter value as both drivers take it (mssql infers the SQL type, pg the text form). */
export type ParamValue = string | number | boolean | Date | null;

/** The parameters' fields: each validates and normalises what a caller passes into one `ParamValue`. */
export type ParamShape = Readonly<Record<string, z.ZodType<ParamValue, unknown>>>;

interface QueryBase<S extends ParamShape> {
  /** Stable name: logs, errors, cache keys and the TDS test peer use it. */
  readonly name: string;
  readonly source: SourceName;
  /** Its keys are the parameters both texts name as `@key` (the twin's are rewritten to pg's `$n`). */
  readonly input: z.ZodObject<S>;
  /** The production text: bracketed real names, `@name` parameters, `TOP (@limit)` for limits. */
  readonly tsql: string;
  /** The same question over the twin tables of migration 0014, in PostgreSQL with the same `@name` parameters. */
  readonly twin: string;
}

/** A read: rows, each through `map`. */
export interface SourceRead<S extends ParamShape, R> extends QueryBase<S> {
  readonly kind: 'read';
  /** One mapper for both answers: tedious and pg hand back numbers, dates and nulls differently. */
  readonly map: z.ZodType<R, unknown>;
}

/** A write: its answer is the number of rows it changed (0 when an idempotent write found its row there). */
export interface SourceWrite<S extends ParamShape> extends QueryBase<S> {
  readonly kind: 'write';
}

/** Any query, for lists of them (the catalogue check, the TDS peer); each query itself is fully typed. */
export type AnySourceQuery = SourceRead<ParamShape, unknown> | SourceWrite<ParamShape>;

/** What a caller passes to a query: the input its parameter fields accept. */
export type QueryInput<S extends ParamShape> = z.input<z.ZodObject<S>>;

/** The parameters' values, validated and normalised; a bad value is a 400 naming the parameter. */
export function queryParams<S extends ParamShape>(query: QueryBase<S>, input: QueryInput<S>): Readonly<Record<string, ParamValue>> {
  const parsed = query.input.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(parsed.error.issues.map((issue) => ({ path: ['params', ...issue.path].join('.'), message: issue.message })));
  }
  return parsed.data as Readonly<Record<string, ParamValue>>;
}

/** The rows a read returned, each through its mapper; a row it refuses is the source's fault, not the caller's. */
export function mapRows<S extends ParamShape, R>(query: SourceRead<S, R>, rows: readonly unknown[]): R[] {
  return rows.map((row) => {
    const mapped = query.map.safeParse(row);
    if (!mapped.success) throw new SourceRowInvalidError(query.source, query.name, mapped.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    return mapped.data;
  });
}

/** A read as data, its kind set (the literal keeps its parameter and row types). */
export function sourceRead<S extends ParamShape, R>(query: Omit<SourceRead<S, R>, 'kind'>): SourceRead<S, R> {
  return { kind: 'read', ...query };
}

/** A write as data, its kind set. */
export function sourceWrite<S extends ParamShape>(query: Omit<SourceWrite<S>, 'kind'>): SourceWrite<S> {
  return { kind: 'write', ...query };
}

/** `[A], [B]`: a T-SQL select list of real names. */
export function tsqlColumns(columns: readonly string[]): string {
  return columns.map((column) => `[${column}]`).join(', ');
}

/** `"A", "B"`: the twin's select list of the same names. */
export function twinColumns(columns: readonly string[]): string {
  return columns.map((column) => `"${column}"`).join(', ');
}
