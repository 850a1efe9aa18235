// The TDS peer's packet layer: the 8-byte header, replies split at the packet size, client messages gathered to the end bit.
import { describe, expect, it } from 'vitest';
import { MessageGatherer, PacketType, decodeHeader, encodeMessage, encodePacket } from '../../support/tds/packets.js';

describe('TDS packets', () => {
  it('writes the header: type, status, big-endian length including the header, spid 0, packet id, window 0', () => {
    expect(encodePacket(PacketType.REPLY, 0x01, 1, Buffer.from([0xaa, 0xbb]))).toEqual(Buffer.from([0x04, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x00, 0xaa, 0xbb]));
  });

  it('splits a reply at the packet size, the end bit on the last packet only, ids counting from 1', () => {
    const packets = encodeMessage(PacketType.REPLY, Buffer.alloc(20, 7), 16);
    expect(packets.map((p) => [...p.subarray(0, 8)])).toEqual([
      [0x04, 0x00, 0x00, 0x10, 0, 0, 1, 0],
      [0x04, 0x00, 0x00, 0x10, 0, 0, 2, 0],
      [0x04, 0x01, 0x00, 0x0c, 0, 0, 3, 0],
    ]);
  });

  it('leaves the last packet open when a reply is to stall half-way', () => {
    const [only] = encodeMessage(PacketType.REPLY, Buffer.from([1, 2, 3]), 4096, false);
    expect(decodeHeader(only!)).toEqual({ type: 0x04, status: 0x00, length: 11, packetId: 1 });
  });

  it('gathers a message split across packets and across reads, and keeps the bytes of the next one', () => {
    const first = [encodePacket(PacketType.RPC, 0x00, 1, Buffer.from([1, 2])), encodePacket(PacketType.RPC, 0x01, 2, Buffer.from([3]))];
    const second = encodePacket(PacketType.SQL_BATCH, 0x01, 1, Buffer.from([9]));
    const bytes = Buffer.concat([...first, second]);
    const gatherer = new MessageGatherer();
    expect(gatherer.push(bytes.subarray(0, 5))).toEqual([]);
    expect(gatherer.push(bytes.subarray(5, 20))).toEqual([{ type: PacketType.RPC, status: 0x01, payload: Buffer.from([1, 2, 3]) }]);
    expect(gatherer.push(bytes.subarray(20))).toEqual([{ type: PacketType.SQL_BATCH, status: 0x01, payload: Buffer.from([9]) }]);
  });

  it('ends a message the client abandoned with the ignore bit', () => {
    const gatherer = new MessageGatherer();
    expect(gatherer.push(encodePacket(PacketType.RPC, 0x03, 1, Buffer.from([5])))).toEqual([{ type: PacketType.RPC, status: 0x03, payload: Buffer.from([5]) }]);
  });

  it('rejects a header whose length is below its own 8 bytes', () => {
    expect(() => decodeHeader(Buffer.from([0x04, 0x01, 0x00, 0x07, 0, 0, 1, 0]))).toThrow(/below the header/);
  });
});
