// Runs a received T-SQL text on PostgreSQL (translated, never looked up) and types the result columns for TDS.
import type pg from 'pg';
import { type CellValue, type ColumnType, NVARCHAR_MAX_CHARS } from './column-types.js';
import type { RpcParam } from './client-messages.js';
import type { Column } from './tokens.js';
import { translateTsql } from './translate.js';

/** A pg.Client or pg.Pool: the peer only queries. */
export interface Queryable {
  query(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult>;
}

export interface QueryResult {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly CellValue[])[];
  /** Rows returned, or changed by an INSERT, UPDATE or DELETE: the DONE token's count. */
  readonly rowCount: number;
  /** The statement's kind as pg names it (`SELECT`, `INSERT`, …): the DONE token's current command. */
  readonly command: string;
}

export interface ExecuteOptions {
  /** Result columns (by name, any case) sent as DATETIME rather than DATETIME2: the utility's older columns. */
  readonly datetimeColumns?: readonly string[];
}

// Every value as pg's text: exact numerics, timestamps without the process's time zone, microseconds kept.
const RAW_TEXT: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value };

const PG = { BOOL: 16, INT8: 20, INT2: 21, INT4: 23, TEXT: 25, FLOAT4: 700, FLOAT8: 701, BPCHAR: 1042, VARCHAR: 1043, DATE: 1082, TIMESTAMP: 1114, TIMESTAMPTZ: 1184, NUMERIC: 1700 };

export async function execute(db: Queryable, tsql: string, params: readonly RpcParam[], options: ExecuteOptions = {}): Promise<QueryResult> {
  const { text, names } = translateTsql(tsql, (name) => pgCast(params.find((p) => p.name.toLowerCase() === `@${name.toLowerCase()}`)?.type));
  const values = names.map((name) => {
    const param = params.find((p) => p.name.toLowerCase() === `@${name.toLowerCase()}`);
    if (!param) throw new Error(`the statement uses @${name} but the call declares no such parameter`);
    return typeof param.value === 'bigint' ? param.value.toString() : param.value;
  });
  const result = await db.query({ text, values, rowMode: 'array', types: RAW_TEXT });
  const datetime = new Set((options.datetimeColumns ?? []).map((n) => n.toLowerCase()));
  const rows = result.rows as (string | null)[][];
  const columns = result.fields.map((field, index): Column => {
    const name = field.name === '?column?' ? '' : field.name;
    const type = datetime.has(name.toLowerCase()) && (field.dataTypeID === PG.TIMESTAMP || field.dataTypeID === PG.TIMESTAMPTZ) ? { kind: 'datetime' as const } : columnType(field, rows.map((r) => r[index] ?? null));
    return { name, type };
  });
  return {
    columns,
    rows: rows.map((r) => r.map((value, index) => cell(columns[index]!.type, value))),
    rowCount: result.rowCount ?? rows.length,
    command: result.command,
  };
}

/**
 * The pg type a declared parameter type reads as. Dates stay uncast: pg then reads their UTC text as the column's own
 * type (timestamp or timestamptz) does, where a cast would bring in the session's time zone.
 */
export function pgCast(declared: string | undefined): string | undefined {
  const base = declared?.toLowerCase().replace(/\(.*$/, '');
  switch (base) {
    case 'tinyint':
    case 'smallint':
      return 'smallint';
    case 'int':
      return 'int';
    case 'bigint':
      return 'bigint';
    case 'real':
      return 'real';
    case 'float':
      return 'float8';
    case 'bit':
      return 'boolean';
    case 'decimal':
      return 'numeric';
    case 'nvarchar':
    case 'varchar':
      return 'text';
    default:
      return undefined;
  }
}

/** The TDS type of a pg result column; text columns longer than 4000 characters become NVARCHAR(MAX). */
export function columnType(field: Pick<pg.FieldDef, 'dataTypeID' | 'dataTypeModifier' | 'name'>, values: readonly (string | null)[]): ColumnType {
  switch (field.dataTypeID) {
    case PG.INT2:
    case PG.INT4:
      return { kind: 'int' };
    case PG.INT8:
      return { kind: 'bigint' };
    case PG.FLOAT4:
    case PG.FLOAT8:
      return { kind: 'float' };
    case PG.BOOL:
      return { kind: 'bit' };
    case PG.TEXT:
    case PG.VARCHAR:
    case PG.BPCHAR:
      return { kind: 'nvarchar', max: values.some((v) => v !== null && v.length > NVARCHAR_MAX_CHARS) };
    case PG.DATE:
      return { kind: 'date' };
    case PG.TIMESTAMP:
    case PG.TIMESTAMPTZ:
      // datetime2 without a scale is datetime2(7) in SQL Server; a timestamptz's value is sent in UTC (sql-time.ts).
      return { kind: 'datetime2', scale: field.dataTypeModifier >= 0 ? Math.min(field.dataTypeModifier, 7) : 7 };
    case PG.NUMERIC:
      return numericType(field.dataTypeModifier, values);
    default:
      throw new Error(`the TDS peer has no SQL Server type for pg type ${field.dataTypeID} (column ${field.name})`);
  }
}

/** numeric(p,s) keeps its precision and scale; a bare numeric gets DECIMAL(38, the largest scale among the values). */
function numericType(typmod: number, values: readonly (string | null)[]): ColumnType {
  if (typmod >= 4) return { kind: 'decimal', precision: ((typmod - 4) >> 16) & 0xffff, scale: (typmod - 4) & 0xffff };
  const scale = Math.max(0, ...values.map((v) => (v === null || !v.includes('.') ? 0 : v.length - v.indexOf('.') - 1)));
  return { kind: 'decimal', precision: 38, scale };
}

function cell(type: ColumnType, value: string | null): CellValue {
  if (value === null) return null;
  switch (type.kind) {
    case 'int':
    case 'float':
      return Number(value);
    case 'bit':
      return value === 't';
    default:
      return value;
  }
}
