// Decoding what the client sends: LOGIN7's names, a SQL batch's text, an RPC sp_executesql with typed parameters.
import { ByteReader } from './reader.js';
import { type SqlMoment, daysSince0001, momentToIso } from './sql-time.js';

export interface Login7 {
  readonly userName: string;
  readonly database: string;
  readonly appName: string;
}

/** LOGIN7: a 36-byte fixed part, then (UInt16 offset, UInt16 characters) pairs into the payload. */
export function decodeLogin7(payload: Buffer): Login7 {
  const field = (at: number): string => {
    const offset = payload.readUInt16LE(at);
    const chars = payload.readUInt16LE(at + 2);
    return payload.subarray(offset, offset + chars * 2).toString('utf16le');
  };
  return { userName: field(40), appName: field(48), database: field(68) };
}

/** Skips ALL_HEADERS (UInt32 total length, itself included). */
function afterHeaders(payload: Buffer): ByteReader {
  const reader = new ByteReader(payload);
  reader.offset = reader.u32();
  return reader;
}

export function decodeSqlBatch(payload: Buffer): string {
  const reader = afterHeaders(payload);
  return reader.ucs2(reader.remaining / 2);
}

export type ParamValue = number | bigint | string | boolean | null;

export interface RpcParam {
  readonly name: string;
  /** The SQL type the client declared, e.g. `int`, `nvarchar`, `decimal(10,2)`. */
  readonly type: string;
  /** Dates come as ISO strings (UTC), decimals as their text, BIGINTs as bigint. */
  readonly value: ParamValue;
}

export interface RpcCall {
  readonly procId: number | undefined;
  readonly procName: string | undefined;
  readonly params: readonly RpcParam[];
}

export const SP_EXECUTESQL = 10;

export function decodeRpc(payload: Buffer): RpcCall {
  const reader = afterHeaders(payload);
  const nameLength = reader.u16();
  const procId = nameLength === 0xffff ? reader.u16() : undefined;
  const procName = nameLength === 0xffff ? undefined : reader.ucs2(nameLength);
  reader.u16(); // option flags
  const params: RpcParam[] = [];
  // A batch flag (0x80) or the end of the message ends this call; the peer serves one call per message.
  while (reader.remaining > 0 && !isBatchSeparator(reader)) {
    const name = reader.bVarchar();
    reader.u8(); // status: by-ref / default flags
    params.push({ name, ...readTyped(reader) });
  }
  return { procId, procName, params };
}

function isBatchSeparator(reader: ByteReader): boolean {
  const at = reader.offset;
  const byte = reader.u8();
  reader.offset = at;
  return byte === 0x80 || byte === 0xff;
}

/** Reads TYPE_INFO then the value of the parameter types tedious sends. */
export function readTyped(reader: ByteReader): { type: string; value: ParamValue } {
  const typeId = reader.u8();
  switch (typeId) {
    case 0x26: {
      const size = reader.u8();
      const len = reader.u8();
      const type = ({ 1: 'tinyint', 2: 'smallint', 4: 'int', 8: 'bigint' } as Record<number, string>)[size] ?? `intn(${size})`;
      if (len === 0) return { type, value: null };
      if (len === 8) return { type, value: reader.i64() };
      return { type, value: len === 1 ? reader.u8() : reader.slice(len).readIntLE(0, len) };
    }
    case 0x6d: {
      const size = reader.u8();
      const len = reader.u8();
      if (len === 0) return { type: 'float', value: null };
      return { type: size === 4 ? 'real' : 'float', value: len === 4 ? readFloat32(reader) : reader.f64() };
    }
    case 0x68: {
      reader.u8();
      const len = reader.u8();
      return { type: 'bit', value: len === 0 ? null : reader.u8() !== 0 };
    }
    case 0x6f: {
      reader.u8();
      const len = reader.u8();
      if (len === 0) return { type: 'datetime', value: null };
      const days = reader.i32();
      const ticks = reader.u32();
      return { type: 'datetime', value: momentToIso({ days: daysSince0001(days), nanos: (BigInt(ticks) * 1_000_000_000n + 150n) / 300n }) };
    }
    case 0x2a: {
      const scale = reader.u8();
      const len = reader.u8();
      if (len === 0) return { type: `datetime2(${scale})`, value: null };
      const units = reader.uintLE(len - 3);
      const days = Number(reader.uintLE(3));
      return { type: `datetime2(${scale})`, value: momentToIso(moment(days, units * 10n ** BigInt(9 - scale))) };
    }
    case 0x28: {
      const len = reader.u8();
      return { type: 'date', value: len === 0 ? null : momentToIso(moment(Number(reader.uintLE(3)), 0n)).slice(0, 10) };
    }
    case 0x6a:
    case 0x6c: {
      reader.u8();
      const precision = reader.u8();
      const scale = reader.u8();
      const type = `decimal(${precision},${scale})`;
      const len = reader.u8();
      if (len === 0) return { type, value: null };
      const sign = reader.u8();
      return { type, value: decimalText(sign === 1, reader.uintLE(len - 1), scale) };
    }
    case 0xe7:
    case 0xa7:
      return readCharacters(reader, typeId === 0xe7);
    default:
      throw new Error(`the TDS peer does not decode parameter type 0x${typeId.toString(16)}`);
  }
}

function readFloat32(reader: ByteReader): number {
  return reader.slice(4).readFloatLE(0);
}

function moment(days: number, nanos: bigint): SqlMoment {
  return { days, nanos };
}

function decimalText(positive: boolean, magnitude: bigint, scale: number): string {
  const digits = magnitude.toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return positive || magnitude === 0n ? text : `-${text}`;
}

function readCharacters(reader: ByteReader, unicode: boolean): { type: string; value: ParamValue } {
  const maxLength = reader.u16();
  reader.slice(5); // collation
  const encoding = unicode ? 'utf16le' : 'latin1';
  const type = `${unicode ? 'nvarchar' : 'varchar'}(${maxLength === 0xffff ? 'max' : unicode ? maxLength / 2 : maxLength})`;
  if (maxLength !== 0xffff) {
    const len = reader.u16();
    return { type, value: len === 0xffff ? null : reader.slice(len).toString(encoding) };
  }
  const total = reader.u64();
  if (total === 0xffffffffffffffffn) return { type, value: null };
  const chunks: Buffer[] = [];
  for (let len = reader.u32(); len !== 0; len = reader.u32()) chunks.push(reader.slice(len));
  return { type, value: Buffer.concat(chunks).toString(encoding) };
}
