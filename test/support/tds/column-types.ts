// The result column types the peer sends (TYPE_INFO of COLMETADATA) and their values in a ROW, nullable variants.
import { type SqlMoment, daysSince1900, parseMoment } from './sql-time.js';

/** Latin1_General_CI_AS, the collation the peer announces and puts on every character column. */
export const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

/** Characters above which an NVARCHAR column is sent as NVARCHAR(MAX), its values as PLP. */
export const NVARCHAR_MAX_CHARS = 4000;

export type ColumnType =
  | { readonly kind: 'int' }
  | { readonly kind: 'bigint' }
  | { readonly kind: 'float' }
  | { readonly kind: 'bit' }
  | { readonly kind: 'nvarchar'; readonly max: boolean }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'datetime2'; readonly scale: number }
  | { readonly kind: 'datetime' }
  | { readonly kind: 'date' };

/** What a ROW value may be before encoding; `null` is SQL NULL. Times take pg's text or a Date. */
export type CellValue = number | bigint | string | boolean | Date | null;

export function typeInfo(type: ColumnType): Buffer {
  switch (type.kind) {
    case 'int':
      return Buffer.from([0x26, 4]);
    case 'bigint':
      return Buffer.from([0x26, 8]);
    case 'float':
      return Buffer.from([0x6d, 8]);
    case 'bit':
      return Buffer.from([0x68, 1]);
    case 'datetime':
      return Buffer.from([0x6f, 8]);
    case 'date':
      return Buffer.from([0x28]);
    case 'datetime2':
      return Buffer.from([0x2a, type.scale]);
    case 'decimal':
      return Buffer.from([0x6a, decimalLength(type.precision), type.precision, type.scale]);
    case 'nvarchar': {
      const max = Buffer.alloc(2);
      max.writeUInt16LE(type.max ? 0xffff : NVARCHAR_MAX_CHARS * 2);
      return Buffer.concat([Buffer.from([0xe7]), max, COLLATION]);
    }
  }
}

/** Bytes of a DECIMAL value (sign byte included) for a precision, as SQL Server sizes them. */
function decimalLength(precision: number): number {
  if (precision < 1 || precision > 38) throw new Error(`DECIMAL precision ${precision} is outside 1..38`);
  return precision <= 9 ? 5 : precision <= 19 ? 9 : precision <= 28 ? 13 : 17;
}

/** Bytes of the time part of a DATETIME2 of this scale. */
function timeLength(scale: number): number {
  return scale <= 2 ? 3 : scale <= 4 ? 4 : 5;
}

export function encodeValue(type: ColumnType, value: CellValue): Buffer {
  if (value === null) return encodeNull(type);
  switch (type.kind) {
    case 'int':
      return withLength(4, (b) => b.writeInt32LE(Number(value)));
    case 'bigint':
      return withLength(8, (b) => b.writeBigInt64LE(BigInt(value as string | number | bigint)));
    case 'float':
      return withLength(8, (b) => b.writeDoubleLE(Number(value)));
    case 'bit':
      return Buffer.from([1, value === true || value === 't' || value === 1 ? 1 : 0]);
    case 'decimal':
      return encodeDecimal(type.precision, type.scale, String(value));
    case 'datetime2':
      return encodeDatetime2(type.scale, toMoment(value));
    case 'datetime':
      return encodeDatetime(toMoment(value));
    case 'date': {
      const out = Buffer.alloc(4);
      out[0] = 3;
      out.writeUIntLE(toMoment(value).days, 1, 3);
      return out;
    }
    case 'nvarchar':
      return type.max ? encodePlp(Buffer.from(String(value), 'utf16le')) : encodeUs(Buffer.from(String(value), 'utf16le'));
  }
}

function encodeNull(type: ColumnType): Buffer {
  if (type.kind !== 'nvarchar') return Buffer.from([0]);
  return type.max ? Buffer.alloc(8, 0xff) : Buffer.from([0xff, 0xff]);
}

function withLength(n: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(n);
  write(b);
  return Buffer.concat([Buffer.from([n]), b]);
}

function toMoment(value: CellValue): SqlMoment {
  if (value instanceof Date) return parseMoment(value.toISOString());
  return parseMoment(String(value));
}

function encodeUs(bytes: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16LE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** PLP: UInt64 total length, then UInt32-length chunks, then a zero-length chunk. */
function encodePlp(bytes: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(bytes.length), 0);
  head.writeUInt32LE(bytes.length, 8);
  return Buffer.concat([head, bytes, Buffer.alloc(4)]);
}

/** `-12.5` at scale 2 → length 5, sign 0, magnitude 1250 little-endian. */
function encodeDecimal(precision: number, scale: number, text: string): Buffer {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const fraction = (m[3] ?? '').padEnd(scale, '0');
  if (fraction.length > scale && /[^0]/.test(fraction.slice(scale))) throw new Error(`${text} has more than ${scale} decimals`);
  let magnitude = BigInt(`${m[2] || '0'}${fraction.slice(0, scale)}`);
  const length = decimalLength(precision);
  const out = Buffer.alloc(1 + length);
  out[0] = length;
  out[1] = m[1] === '-' && magnitude !== 0n ? 0 : 1;
  for (let i = 2; i <= length; i++) {
    out[i] = Number(magnitude & 0xffn);
    magnitude >>= 8n;
  }
  if (magnitude !== 0n) throw new Error(`${text} does not fit DECIMAL(${precision},${scale})`);
  return out;
}

function encodeDatetime2(scale: number, moment: SqlMoment): Buffer {
  const tLen = timeLength(scale);
  let units = moment.nanos / 10n ** BigInt(9 - scale);
  const out = Buffer.alloc(1 + tLen + 3);
  out[0] = tLen + 3;
  for (let i = 1; i <= tLen; i++) {
    out[i] = Number(units & 0xffn);
    units >>= 8n;
  }
  out.writeUIntLE(moment.days, 1 + tLen, 3);
  return out;
}

/** DATETIME: Int32 days since 1900-01-01, UInt32 three-hundredths of a second since midnight. */
function encodeDatetime(moment: SqlMoment): Buffer {
  let days = daysSince1900(moment);
  let ticks = Number((moment.nanos * 300n + 500_000_000n) / 1_000_000_000n);
  if (ticks >= 300 * 86_400) {
    ticks -= 300 * 86_400;
    days += 1;
  }
  const out = Buffer.alloc(9);
  out[0] = 8;
  out.writeInt32LE(days, 1);
  out.writeUInt32LE(ticks, 5);
  return out;
}
