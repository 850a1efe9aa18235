// TDS packets: the 8-byte header, gathering a message's packets up to the end-of-message bit, and splitting a reply.

export const PACKET_HEADER_LENGTH = 8;
export const STATUS_EOM = 0x01;
export const STATUS_IGNORE = 0x02;

export const PacketType = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  REPLY: 0x04,
  ATTENTION: 0x06,
  LOGIN7: 0x10,
  PRELOGIN: 0x12,
} as const;

export interface TdsMessage {
  readonly type: number;
  /** Status of the last packet: the ignore bit (0x02) says the client abandoned the message. */
  readonly status: number;
  readonly payload: Buffer;
}

export interface PacketHeader {
  readonly type: number;
  readonly status: number;
  readonly length: number;
  readonly packetId: number;
}

export function decodeHeader(bytes: Buffer): PacketHeader {
  if (bytes.length < PACKET_HEADER_LENGTH) throw new Error(`a TDS header needs 8 bytes, got ${bytes.length}`);
  const length = bytes.readUInt16BE(2);
  if (length < PACKET_HEADER_LENGTH) throw new Error(`TDS packet length ${length} is below the header's own 8 bytes`);
  return { type: bytes[0]!, status: bytes[1]!, length, packetId: bytes[6]! };
}

/** One packet: header (spid 0, window 0) then payload. */
export function encodePacket(type: number, status: number, packetId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(PACKET_HEADER_LENGTH);
  header[0] = type;
  header[1] = status;
  header.writeUInt16BE(PACKET_HEADER_LENGTH + payload.length, 2);
  header[6] = packetId & 0xff;
  return Buffer.concat([header, payload]);
}

/**
 * A message cut into packets of at most `packetSize` bytes, the end bit on the last one only.
 * `endOfMessage: false` leaves the last packet open too (how a reply stalls half-way).
 */
export function encodeMessage(type: number, payload: Buffer, packetSize = 4096, endOfMessage = true): Buffer[] {
  const room = packetSize - PACKET_HEADER_LENGTH;
  const packets: Buffer[] = [];
  let offset = 0;
  do {
    const chunk = payload.subarray(offset, offset + room);
    offset += chunk.length;
    const last = offset >= payload.length;
    packets.push(encodePacket(type, last && endOfMessage ? STATUS_EOM : 0, packets.length + 1, chunk));
  } while (offset < payload.length);
  return packets;
}

/** Gathers bytes as they come into whole messages (the client splits at its packet size). */
export class MessageGatherer {
  private pending: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];

  /** Feeds bytes; returns the messages they complete, in order. */
  push(bytes: Buffer): TdsMessage[] {
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const messages: TdsMessage[] = [];
    while (this.pending.length >= PACKET_HEADER_LENGTH) {
      const header = decodeHeader(this.pending);
      if (this.pending.length < header.length) break;
      this.parts.push(this.pending.subarray(PACKET_HEADER_LENGTH, header.length));
      this.pending = this.pending.subarray(header.length);
      if ((header.status & (STATUS_EOM | STATUS_IGNORE)) !== 0) {
        messages.push({ type: header.type, status: header.status, payload: Buffer.concat(this.parts) });
        this.parts = [];
      }
    }
    return messages;
  }
}
