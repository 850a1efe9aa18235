// The TDS peer's result types: TYPE_INFO bytes and ROW values (nullable variants), checked against hand-worked bytes.
import { describe, expect, it } from 'vitest';
import { type ColumnType, encodeValue, typeInfo } from '../../support/tds/column-types.js';
import { columnType } from '../../support/tds/executor.js';

const hex = (b: Buffer): string => b.toString('hex');
const NVARCHAR: ColumnType = { kind: 'nvarchar', max: false };

describe('TDS column types', () => {
  it('announces each type with its TYPE_INFO', () => {
    expect(hex(typeInfo({ kind: 'int' }))).toBe('2604');
    expect(hex(typeInfo({ kind: 'bigint' }))).toBe('2608');
    expect(hex(typeInfo({ kind: 'float' }))).toBe('6d08');
    expect(hex(typeInfo({ kind: 'bit' }))).toBe('6801');
    expect(hex(typeInfo({ kind: 'datetime' }))).toBe('6f08');
    expect(hex(typeInfo({ kind: 'datetime2', scale: 3 }))).toBe('2a03');
    expect(hex(typeInfo({ kind: 'date' }))).toBe('28');
    expect(hex(typeInfo({ kind: 'decimal', precision: 12, scale: 2 }))).toBe('6a090c02');
    expect(hex(typeInfo(NVARCHAR))).toBe('e7401f' + '0904d00034');
    expect(hex(typeInfo({ kind: 'nvarchar', max: true }))).toBe('e7ffff' + '0904d00034');
  });

  it('encodes INT, BIGINT, FLOAT and BIT with their length byte', () => {
    expect(hex(encodeValue({ kind: 'int' }, -2))).toBe('04feffffff');
    expect(hex(encodeValue({ kind: 'bigint' }, '9007199254740993'))).toBe('080100000000002000');
    expect(hex(encodeValue({ kind: 'float' }, 1.5))).toBe('08000000000000f83f');
    expect(hex(encodeValue({ kind: 'bit' }, true))).toBe('0101');
    expect(hex(encodeValue({ kind: 'bit' }, false))).toBe('0100');
  });

  it('encodes NVARCHAR as UCS-2 after a UInt16 byte count, and NVARCHAR(MAX) as PLP', () => {
    expect(hex(encodeValue(NVARCHAR, 'Dé'))).toBe('04004400e900');
    expect(hex(encodeValue({ kind: 'nvarchar', max: true }, 'A'))).toBe('0200000000000000' + '02000000' + '4100' + '00000000');
  });

  it('encodes DECIMAL as length, sign (1 positive) and little-endian magnitude sized by precision', () => {
    // 5000.50 at scale 2 = 500050 = 0x07A152; precision 12 takes 8 magnitude bytes.
    expect(hex(encodeValue({ kind: 'decimal', precision: 12, scale: 2 }, '5000.50'))).toBe('090152a1070000000000');
    // -12.05 → 1205 = 0x04B5, sign 0; precision 5 takes 4 bytes.
    expect(hex(encodeValue({ kind: 'decimal', precision: 5, scale: 2 }, '-12.05'))).toBe('0500b5040000');
    expect(hex(encodeValue({ kind: 'decimal', precision: 38, scale: 3 }, '7'))).toBe('1101' + '581b' + '00'.repeat(14));
    expect(() => encodeValue({ kind: 'decimal', precision: 3, scale: 2 }, '12.345')).toThrow(/more than 2 decimals/);
  });

  it('encodes DATETIME2 as time in 10^-scale seconds then UInt24 days since 0001-01-01', () => {
    // 2000-01-01 is day 730119 = 0x0B2407; 00:00:00.001 at scale 3 is 1 unit in 4 bytes.
    expect(hex(encodeValue({ kind: 'datetime2', scale: 3 }, '2000-01-01 00:00:00.001'))).toBe('07' + '01000000' + '07240b');
    // scale 7: 1 second = 10^7 units = 0x989680 in 5 bytes.
    expect(hex(encodeValue({ kind: 'datetime2', scale: 7 }, new Date('0001-01-01T00:00:01Z')))).toBe('08' + '8096980000' + '000000');
  });

  it('encodes DATE as length 3 and UInt24 days since 0001-01-01', () => {
    expect(hex(encodeValue({ kind: 'date' }, '2000-01-01'))).toBe('03' + '07240b');
    expect(hex(encodeValue({ kind: 'date' }, '0001-01-02'))).toBe('03' + '010000');
  });

  it('encodes DATETIME as Int32 days since 1900 and UInt32 three-hundredths of a second', () => {
    expect(hex(encodeValue({ kind: 'datetime' }, '1900-01-01 00:00:00'))).toBe('080000000000000000');
    // 2000-01-01 is day 36524 = 0x8EAC; noon is 12 × 3600 × 300 = 12,960,000 = 0xC5C100.
    expect(hex(encodeValue({ kind: 'datetime' }, '2000-01-01 12:00:00'))).toBe('08ac8e000000c1c500');
    // Before 1900 the day count is negative.
    expect(hex(encodeValue({ kind: 'datetime' }, '1899-12-31 00:00:00'))).toBe('08ffffffff00000000');
  });

  it('encodes NULL as length 0, NVARCHAR NULL as FFFF, NVARCHAR(MAX) NULL as the PLP null', () => {
    for (const type of [{ kind: 'int' }, { kind: 'decimal', precision: 9, scale: 0 }, { kind: 'datetime2', scale: 7 }, { kind: 'datetime' }, { kind: 'date' }, { kind: 'bit' }] as ColumnType[]) {
      expect(hex(encodeValue(type, null))).toBe('00');
    }
    expect(hex(encodeValue(NVARCHAR, null))).toBe('ffff');
    expect(hex(encodeValue({ kind: 'nvarchar', max: true }, null))).toBe('ff'.repeat(8));
  });

  it('types pg columns: numeric(p,s) from its modifier, a bare numeric by its widest scale, long text as NVARCHAR(MAX)', () => {
    expect(columnType({ name: 'a', dataTypeID: 1700, dataTypeModifier: ((12 << 16) | 2) + 4 }, [])).toEqual({ kind: 'decimal', precision: 12, scale: 2 });
    expect(columnType({ name: 'a', dataTypeID: 1700, dataTypeModifier: -1 }, ['1.5', '2.125', null])).toEqual({ kind: 'decimal', precision: 38, scale: 3 });
    expect(columnType({ name: 'a', dataTypeID: 25, dataTypeModifier: -1 }, ['x'.repeat(4001)])).toEqual({ kind: 'nvarchar', max: true });
    expect(columnType({ name: 'a', dataTypeID: 1114, dataTypeModifier: -1 }, [])).toEqual({ kind: 'datetime2', scale: 7 });
    expect(columnType({ name: 'a', dataTypeID: 1082, dataTypeModifier: -1 }, [])).toEqual({ kind: 'date' });
    expect(() => columnType({ name: 'a', dataTypeID: 114, dataTypeModifier: -1 }, [])).toThrow(/no SQL Server type for pg type 114/);
  });
});
