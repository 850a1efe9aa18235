// The TDS peer's decoding of what the client sends: LOGIN7's names, a batch's text, sp_executesql and its typed parameters.
import { describe, expect, it } from 'vitest';
import { SP_EXECUTESQL, decodeLogin7, decodeRpc, decodeSqlBatch } from '../../support/tds/client-messages.js';

const ucs = (s: string): string => Buffer.from(s, 'utf16le').toString('hex');
const COLLATION = '0904d00034';
/** ALL_HEADERS as tedious sends it: total 22, one transaction-descriptor header of 18 bytes. */
const ALL_HEADERS = '16000000' + '12000000' + '0200' + '0000000000000000' + '01000000';
const name = (n: string): string => Buffer.from([n.length]).toString('hex') + ucs(n);
const nvarchar = (text: string): string => 'e7' + '401f' + COLLATION + Buffer.from([text.length * 2, 0]).toString('hex') + ucs(text);

function rpc(...params: string[]): Buffer {
  return Buffer.from(ALL_HEADERS + 'ffff' + '0a00' + '0000' + params.join(''), 'hex');
}

describe('TDS client messages', () => {
  it('decodes sp_executesql with @statement, @params and typed inputs', () => {
    const call = decodeRpc(
      rpc(
        name('@statement') + '00' + nvarchar('SELECT @n'),
        name('@params') + '00' + nvarchar('@n int'),
        name('@n') + '00' + '2604' + '04' + 'd6ffffff',
        name('@b') + '00' + '2608' + '08' + '0100000000002000',
        name('@f') + '00' + '6d08' + '08' + '000000000000f83f',
        name('@x') + '00' + '6801' + '01' + '01',
        name('@m') + '00' + '6a' + '05' + '05' + '02' + '05' + '00' + 'b5040000',
        name('@s') + '00' + 'e7' + '401f' + COLLATION + 'ffff',
        name('@i') + '00' + '2604' + '00',
      ),
    );
    expect(call.procId).toBe(SP_EXECUTESQL);
    expect(call.params).toEqual([
      { name: '@statement', type: 'nvarchar(4000)', value: 'SELECT @n' },
      { name: '@params', type: 'nvarchar(4000)', value: '@n int' },
      { name: '@n', type: 'int', value: -42 },
      { name: '@b', type: 'bigint', value: 9007199254740993n },
      { name: '@f', type: 'float', value: 1.5 },
      { name: '@x', type: 'bit', value: true },
      { name: '@m', type: 'decimal(5,2)', value: '-12.05' },
      { name: '@s', type: 'nvarchar(4000)', value: null },
      { name: '@i', type: 'int', value: null },
    ]);
  });

  it('decodes DATETIME (days since 1900, 1/300 s) and DATETIME2 (scaled time, days since 0001) to ISO strings', () => {
    const call = decodeRpc(
      rpc(
        // 2000-01-01 is 1900 + 36524 days; noon is 12,960,000 three-hundredths.
        name('@d') + '00' + '6f08' + '08' + 'ac8e0000' + '00c1c500',
        // 2000-01-01 is day 730119 = 0x0B2407; 1 ms at scale 3.
        name('@t') + '00' + '2a03' + '07' + '01000000' + '07240b',
        name('@u') + '00' + '2a07' + '08' + '0a00000000' + '07240b',
      ),
    );
    expect(call.params.map((p) => [p.type, p.value])).toEqual([
      ['datetime', '2000-01-01T12:00:00.000Z'],
      ['datetime2(3)', '2000-01-01T00:00:00.001Z'],
      ['datetime2(7)', '2000-01-01T00:00:00.000001Z'],
    ]);
  });

  it('decodes a statement sent as PLP (NVARCHAR(MAX): UInt64 total, UInt32 chunks, UInt32 0)', () => {
    const text = 'SELECT 1';
    const bytes = Buffer.from(text, 'utf16le');
    const total = Buffer.alloc(8);
    total.writeBigUInt64LE(BigInt(bytes.length));
    const plp = total.toString('hex') + '06000000' + bytes.subarray(0, 6).toString('hex') + '0a000000' + bytes.subarray(6).toString('hex') + '00000000';
    const call = decodeRpc(rpc(name('@statement') + '00' + 'e7' + 'ffff' + COLLATION + plp));
    expect(call.params).toEqual([{ name: '@statement', type: 'nvarchar(max)', value: text }]);
  });

  it('refuses a parameter type it does not know, naming it', () => {
    expect(() => decodeRpc(rpc(name('@g') + '00' + 'f0' + '00'))).toThrow(/parameter type 0xf0/);
  });

  it("decodes a SQL batch's text after ALL_HEADERS", () => {
    expect(decodeSqlBatch(Buffer.from(ALL_HEADERS + ucs('set ansi_nulls on'), 'hex'))).toBe('set ansi_nulls on');
  });

  it("reads LOGIN7's user, application and database from their (offset, length) pairs", () => {
    const payload = Buffer.alloc(120);
    const put = (at: number, offset: number, text: string): void => {
      payload.writeUInt16LE(offset, at);
      payload.writeUInt16LE(text.length, at + 2);
      payload.write(text, offset, 'utf16le');
    };
    put(40, 94, 'sama');
    put(48, 102, 'app');
    put(68, 108, 'SIC');
    expect(decodeLogin7(payload)).toEqual({ userName: 'sama', appName: 'app', database: 'SIC' });
  });
});
