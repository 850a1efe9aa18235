// The TDS peer's reply tokens (DONE family, ERROR, ENVCHANGE, LOGINACK, COLMETADATA, ROW, RETURNSTATUS, PRELOGIN) byte by byte.
import { describe, expect, it } from 'vitest';
import * as t from '../../support/tds/tokens.js';

const hex = (b: Buffer): string => b.toString('hex');
const ucs = (s: string): string => Buffer.from(s, 'utf16le').toString('hex');

describe('TDS reply tokens', () => {
  it('DONE variants: token, UInt16 status, UInt16 command, UInt64 row count', () => {
    expect(hex(t.done(t.Token.DONE, t.DoneStatus.COUNT, 3, 0xc1))).toBe('fd' + '1000' + 'c100' + '0300000000000000');
    expect(hex(t.done(t.Token.DONEINPROC, t.DoneStatus.MORE | t.DoneStatus.COUNT, 2, 0xc1))).toBe('ff' + '1100' + 'c100' + '0200000000000000');
    expect(hex(t.done(t.Token.DONEPROC, t.DoneStatus.FINAL))).toBe('fe' + '0000' + '0000' + '0000000000000000');
    expect(hex(t.done(t.Token.DONE, t.DoneStatus.ERROR))).toBe('fd' + '0200' + '0000' + '0000000000000000');
    expect(hex(t.done(t.Token.DONE, t.DoneStatus.ATTN))).toBe('fd' + '2000' + '0000' + '0000000000000000');
  });

  it('ERROR: length, Int32 number, state, class, US_VARCHAR message, B_VARCHAR server and proc, Int32 line', () => {
    const bytes = t.error({ number: 1205, state: 51, severity: 13, message: 'X', serverName: 'S', procName: '', line: 1 });
    expect(hex(bytes)).toBe('aa' + '1200' + 'b5040000' + '33' + '0d' + '0100' + ucs('X') + '01' + ucs('S') + '00' + '01000000');
  });

  it('LOGINACK: interface 1, TDS 7.4 as 0x74000004 big-endian, program name and version', () => {
    expect(hex(t.loginAck('P'))).toBe('ad' + '0c00' + '01' + '74000004' + '01' + ucs('P') + '10000000');
  });

  it('ENVCHANGE: packet size and database as B_VARCHAR pairs, collation as B_VARBYTE', () => {
    expect(hex(t.envChangeText(4, '4096', '4096'))).toBe('e3' + '1300' + '04' + '04' + ucs('4096') + '04' + ucs('4096'));
    expect(hex(t.envChangeText(1, 'SIC', 'master'))).toBe('e3' + '1500' + '01' + '03' + ucs('SIC') + '06' + ucs('master'));
    expect(hex(t.envChangeCollation())).toBe('e3' + '0800' + '07' + '05' + '0904d00034' + '00');
  });

  it('COLMETADATA, ROW and RETURNSTATUS of one nullable INT column', () => {
    const columns: t.Column[] = [{ name: 'n', type: { kind: 'int' } }];
    expect(hex(t.colMetadata(columns))).toBe('81' + '0100' + '00000000' + '0100' + '2604' + '01' + ucs('n'));
    expect(hex(t.row(columns, [42]))).toBe('d1' + '04' + '2a000000');
    expect(hex(t.row(columns, [null]))).toBe('d1' + '00');
    expect(hex(t.returnStatus(0))).toBe('79' + '00000000');
  });

  it('PRELOGIN reply: option table (token, UInt16 BE offset and length), 0xFF, then VERSION, ENCRYPTION, MARS', () => {
    expect(hex(t.preloginReply(t.Encryption.NOT_SUP))).toBe('00' + '0010' + '0006' + '01' + '0016' + '0001' + '04' + '0017' + '0001' + 'ff' + '0f0007d00000' + '02' + '00');
  });

  it("reads the ENCRYPTION option of a client's PRELOGIN wherever it sits in the table", () => {
    const client = Buffer.from('00' + '000b' + '0006' + '01' + '0011' + '0001' + 'ff' + '0c0000000000' + '01', 'hex');
    expect(t.preloginEncryption(client)).toBe(t.Encryption.ON);
    expect(t.preloginEncryption(Buffer.from('ff', 'hex'))).toBeUndefined();
  });
});
