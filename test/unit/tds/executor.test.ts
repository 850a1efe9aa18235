// The TDS peer's executor without a database: parameters typed by their declaration, timestamptz and DML counts.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { RpcParam } from '../../support/tds/client-messages.js';
import { encodeValue } from '../../support/tds/column-types.js';
import { type Queryable, columnType, execute, pgCast } from '../../support/tds/executor.js';
import { parseMoment } from '../../support/tds/sql-time.js';

/** A Queryable that answers one canned result and keeps what it was asked. */
function canned(result: Partial<pg.QueryArrayResult>): Queryable & { asked: pg.QueryArrayConfig[] } {
  const asked: pg.QueryArrayConfig[] = [];
  return {
    asked,
    query: async (config) => {
      asked.push(config);
      return { command: 'SELECT', rowCount: 0, oid: 0, fields: [], rows: [], ...result } as pg.QueryArrayResult;
    },
  };
}

describe('TDS peer executor', () => {
  it('casts parameters by their declared type (dates left to the column) and sends their values in $n order', async () => {
    const db = canned({ command: 'INSERT', rowCount: 1 });
    const params: RpcParam[] = [
      { name: '@type', type: 'int', value: 1 },
      { name: '@meter', type: 'nvarchar(4000)', value: '14211110000' },
      { name: '@at', type: 'datetime', value: '2026-01-01T00:00:00.000Z' },
    ];
    const result = await execute(db, 'INSERT INTO [t] ([a], [b], [c]) SELECT @meter, @type, @at WHERE NOT EXISTS (SELECT 1 FROM [t] WHERE [a] = @meter)', params);
    expect(db.asked[0]).toMatchObject({
      text: 'INSERT INTO "t" ("a", "b", "c") SELECT $1::text, $2::int, $3 WHERE NOT EXISTS (SELECT 1 FROM "t" WHERE "a" = $1::text)',
      values: ['14211110000', 1, '2026-01-01T00:00:00.000Z'],
    });
    expect(result).toEqual({ columns: [], rows: [], rowCount: 1, command: 'INSERT' });
  });

  it('maps declared SQL Server types to pg casts', () => {
    expect(['tinyint', 'smallint', 'int', 'bigint', 'real', 'float', 'bit', 'decimal(12,2)', 'nvarchar(max)', 'varchar(20)', 'datetime2(3)', 'date', undefined].map(pgCast)).toEqual([
      'smallint', 'smallint', 'int', 'bigint', 'real', 'float8', 'boolean', 'numeric', 'text', 'text', undefined, undefined, undefined,
    ]);
  });

  it('sends a timestamptz column as DATETIME2, its values brought to UTC whatever the session zone printed', async () => {
    expect(columnType({ name: 'a', dataTypeID: 1184, dataTypeModifier: -1 }, [])).toEqual({ kind: 'datetime2', scale: 7 });
    const field = { name: 'DATE_TRANSACTION', dataTypeID: 1184, dataTypeModifier: -1 } as pg.FieldDef;
    const db = canned({ fields: [field], rows: [['2026-01-01 00:59:59.5+01'], [null]], rowCount: 2 });
    const result = await execute(db, 'SELECT [DATE_TRANSACTION] FROM [T]', []);
    expect(result.rows).toEqual([['2026-01-01 00:59:59.5+01'], [null]]);
    const type = result.columns[0]!.type;
    expect(type).toEqual({ kind: 'datetime2', scale: 7 });
    expect(encodeValue(type, result.rows[0]![0]!)).toEqual(encodeValue(type, '2025-12-31 23:59:59.5'));
  });

  it('reads pg offsets of every form, across midnight both ways, microseconds kept', () => {
    const utc = parseMoment('2026-03-01 00:30:00.123456');
    expect(parseMoment('2026-03-01 00:30:00.123456+00')).toEqual(utc);
    expect(parseMoment('2026-03-01 01:30:00.123456+01')).toEqual(utc);
    expect(parseMoment('2026-02-28 20:00:00.123456-04:30')).toEqual(utc);
    expect(parseMoment('2026-03-01 00:30:00.123456Z')).toEqual(utc);
    expect(parseMoment('2026-03-01 01:30:30.123456+01:00:30')).toEqual(utc);
    expect(utc.nanos).toBe(1_800_123_456_000n);
    expect(() => parseMoment('2026-03-01 00:30:00 CET')).toThrow(/not a timestamp/);
  });
});
