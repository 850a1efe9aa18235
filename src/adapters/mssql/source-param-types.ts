// The SQL Server type each query parameter is sent with: what mssql would infer, except for text.
import sql from 'mssql';
import type { ParamValue } from './source-query.js';

// mssql sends every string as NVARCHAR. Compared with a VARCHAR column, SQL Server then converts the COLUMN to
// NVARCHAR (the higher precedence), row by row, and under most collations seeks no index: a lookup by meter number
// becomes a scan of the sales table. A VARCHAR parameter against an NVARCHAR column converts only the parameter,
// so VARCHAR is right for either column type as long as the text fits in it: plain ASCII (meter, POC, account and
// notice numbers are digits). Anything else keeps NVARCHAR, so no character is ever lost.
const ASCII = /^[\x20-\x7e]*$/;

// One declared length for all short values: a length per value would give each its own cached plan on the server.
const SHORT_TEXT = 100;

/** The type to declare for `value`, or undefined to let mssql infer it (numbers, dates, booleans, null). */
export function sqlTypeOf(value: ParamValue): sql.ISqlType | undefined {
  if (typeof value !== 'string') return undefined;
  if (ASCII.test(value)) return value.length <= SHORT_TEXT ? sql.VarChar(SHORT_TEXT) : sql.VarChar(sql.MAX);
  return value.length <= SHORT_TEXT ? sql.NVarChar(SHORT_TEXT) : sql.NVarChar(sql.MAX);
}

/** Adds the query's parameters to an mssql request, each with its declared type. */
export function addParams(request: sql.Request, params: Readonly<Record<string, ParamValue>>): void {
  for (const [name, value] of Object.entries(params)) {
    const type = sqlTypeOf(value);
    if (type) request.input(name, type, value);
    else request.input(name, value);
  }
}
