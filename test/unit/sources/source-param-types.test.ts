// The SQL types query parameters are declared with (src/adapters/mssql/source-param-types.ts).
import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { sqlTypeOf } from '../../../src/adapters/mssql/source-param-types.js';

const described = (value: Parameters<typeof sqlTypeOf>[0]) => {
  const type = sqlTypeOf(value) as unknown as { type: unknown; length?: number } | undefined;
  return type === undefined ? undefined : { type: type.type, length: type.length };
};

describe('source parameter types', () => {
  it('declares ASCII text VARCHAR(100), one length for every short value so the server caches one plan', () => {
    expect(described('14212345678')).toEqual({ type: sql.VarChar, length: 100 });
    expect(described('')).toEqual({ type: sql.VarChar, length: 100 });
    expect(described('x'.repeat(100))).toEqual({ type: sql.VarChar, length: 100 });
  });

  it('keeps NVARCHAR for text VARCHAR could not carry whole, and MAX above 100 characters', () => {
    expect(described('Médina')).toEqual({ type: sql.NVarChar, length: 100 });
    expect(described('x'.repeat(101))).toEqual({ type: sql.VarChar, length: sql.MAX });
    expect(described('é'.repeat(101))).toEqual({ type: sql.NVarChar, length: sql.MAX });
    // A control character is not text a utility number holds: sent as NVARCHAR, whatever it is, unchanged.
    expect(described('a\u0000b')).toEqual({ type: sql.NVarChar, length: 100 });
  });

  it('leaves numbers, dates, booleans and null to mssql (INT, DATETIME, BIT)', () => {
    for (const value of [10, 2026, 1.5, new Date(0), true, null]) expect(sqlTypeOf(value)).toBeUndefined();
  });
});
