// A cursor over a client message's bytes (little-endian, as TDS payloads are), for the peer's decoders.

export class ByteReader {
  constructor(
    private readonly bytes: Buffer,
    public offset = 0,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private take(n: number): number {
    if (this.offset + n > this.bytes.length) throw new Error(`TDS message ends early: needed ${n} bytes at ${this.offset} of ${this.bytes.length}`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(): number {
    return this.bytes[this.take(1)]!;
  }
  u16(): number {
    return this.bytes.readUInt16LE(this.take(2));
  }
  u32(): number {
    return this.bytes.readUInt32LE(this.take(4));
  }
  i32(): number {
    return this.bytes.readInt32LE(this.take(4));
  }
  u64(): bigint {
    return this.bytes.readBigUInt64LE(this.take(8));
  }
  i64(): bigint {
    return this.bytes.readBigInt64LE(this.take(8));
  }
  f64(): number {
    return this.bytes.readDoubleLE(this.take(8));
  }
  uintLE(n: number): bigint {
    let value = 0n;
    const at = this.take(n);
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.bytes[at + i]!);
    return value;
  }
  slice(n: number): Buffer {
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }
  ucs2(chars: number): string {
    return this.slice(chars * 2).toString('utf16le');
  }
  /** B_VARCHAR: a byte count of characters, then UCS-2. */
  bVarchar(): string {
    return this.ucs2(this.u8());
  }
}
