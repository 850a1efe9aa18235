// The reply tokens the peer writes: DONE family, ERROR, ENVCHANGE, LOGINACK, COLMETADATA, ROW, RETURNSTATUS.
import { COLLATION, type CellValue, type ColumnType, encodeValue, typeInfo } from './column-types.js';

export const Token = {
  COLMETADATA: 0x81,
  RETURNSTATUS: 0x79,
  LOGINACK: 0xad,
  ERROR: 0xaa,
  ENVCHANGE: 0xe3,
  ROW: 0xd1,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

export const DoneStatus = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, COUNT: 0x10, ATTN: 0x20 } as const;

/** TDS 7.4, sent big-endian in LOGINACK: tedious accepts only the versions it knows. */
export const TDS_7_4 = 0x74000004;

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function bVarchar(text: string): Buffer {
  return Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'utf16le')]);
}

function usVarchar(text: string): Buffer {
  return Buffer.concat([u16(text.length), Buffer.from(text, 'utf16le')]);
}

/** A token whose body follows a UInt16 length. */
function sized(token: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([token]), u16(body.length), body]);
}

/** DONE, DONEPROC or DONEINPROC: UInt16 status, UInt16 current command, UInt64 row count. */
export function done(token: number, status: number, rowCount = 0, curCmd = 0): Buffer {
  const b = Buffer.alloc(13);
  b[0] = token;
  b.writeUInt16LE(status, 1);
  b.writeUInt16LE(curCmd, 3);
  b.writeBigUInt64LE(BigInt(rowCount), 5);
  return b;
}

export interface ServerError {
  readonly number: number;
  readonly message: string;
  readonly state?: number;
  /** Severity: 14 for a login failure, 13 for a deadlock victim, 16 for an ordinary error. */
  readonly severity?: number;
  readonly serverName?: string;
  readonly procName?: string;
  readonly line?: number;
}

export function error(e: ServerError): Buffer {
  const head = Buffer.alloc(6);
  head.writeInt32LE(e.number, 0);
  head[4] = e.state ?? 1;
  head[5] = e.severity ?? 16;
  const line = Buffer.alloc(4);
  line.writeInt32LE(e.line ?? 1);
  return sized(Token.ERROR, Buffer.concat([head, usVarchar(e.message), bVarchar(e.serverName ?? 'tds-peer'), bVarchar(e.procName ?? ''), line]));
}

/** ENVCHANGE with B_VARCHAR values: database (1), packet size (4). */
export function envChangeText(type: 1 | 4, newValue: string, oldValue: string): Buffer {
  return sized(Token.ENVCHANGE, Buffer.concat([Buffer.from([type]), bVarchar(newValue), bVarchar(oldValue)]));
}

/** ENVCHANGE collation (7): without it every VarChar parameter of the client fails. */
export function envChangeCollation(): Buffer {
  return sized(Token.ENVCHANGE, Buffer.concat([Buffer.from([7, COLLATION.length]), COLLATION, Buffer.from([0])]));
}

export function loginAck(programName = 'tds-peer'): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(TDS_7_4);
  return sized(Token.LOGINACK, Buffer.concat([Buffer.from([1]), version, bVarchar(programName), Buffer.from([16, 0, 0, 0])]));
}

export function colMetadata(columns: readonly Column[]): Buffer {
  const parts = [Buffer.from([Token.COLMETADATA]), u16(columns.length)];
  for (const column of columns) {
    // UInt32 user type 0, flags 0x0001: nullable.
    parts.push(Buffer.from([0, 0, 0, 0, 0x01, 0x00]), typeInfo(column.type), bVarchar(column.name));
  }
  return Buffer.concat(parts);
}

export function row(columns: readonly Column[], values: readonly CellValue[]): Buffer {
  return Buffer.concat([Buffer.from([Token.ROW]), ...columns.map((c, i) => encodeValue(c.type, values[i] ?? null))]);
}

export function returnStatus(value = 0): Buffer {
  const b = Buffer.alloc(5);
  b[0] = Token.RETURNSTATUS;
  b.writeInt32LE(value, 1);
  return b;
}

/** PRELOGIN option tokens the reply carries. */
export const Encryption = { OFF: 0, ON: 1, NOT_SUP: 2, REQ: 3 } as const;

/** The PRELOGIN reply: VERSION, ENCRYPTION, MARS off, then the data after the option table. */
export function preloginReply(encryption: number): Buffer {
  const options: Array<[number, Buffer]> = [
    [0x00, Buffer.from([15, 0, 0x07, 0xd0, 0, 0])],
    [0x01, Buffer.from([encryption])],
    [0x04, Buffer.from([0])],
  ];
  const tableLength = options.length * 5 + 1;
  const table: Buffer[] = [];
  let offset = tableLength;
  for (const [token, data] of options) {
    const entry = Buffer.alloc(5);
    entry[0] = token;
    entry.writeUInt16BE(offset, 1);
    entry.writeUInt16BE(data.length, 3);
    table.push(entry);
    offset += data.length;
  }
  return Buffer.concat([...table, Buffer.from([0xff]), ...options.map(([, data]) => data)]);
}

/** The ENCRYPTION option of a client's PRELOGIN, or undefined when it sends none. */
export function preloginEncryption(payload: Buffer): number | undefined {
  for (let at = 0; at < payload.length && payload[at] !== 0xff; at += 5) {
    if (payload[at] === 0x01) return payload[payload.readUInt16BE(at + 1)];
  }
  return undefined;
}
