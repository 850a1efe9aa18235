// Files as a phone sends them, for the requests' tests: the first bytes of each type file-type tells apart, padded with
// random bytes to any size, and the headers of executables that must be refused whatever they are named.
import { randomBytes } from 'node:crypto';

/** An ftyp box: its size, 'ftyp', the major brand, a minor version and the compatible brands. */
function ftyp(major: string, compatible: string): Buffer {
  const b = Buffer.alloc(16 + compatible.length);
  b.writeUInt32BE(b.length, 0);
  b.write(`ftyp${major}`, 4, 'latin1');
  b.write(compatible, 16, 'latin1');
  return b;
}

const MAGIC = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
  pdf: Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
  // RIFF, the file's size less 8 (any: file-type reads the tags), 'WEBP', then the lossy bitstream chunk 'VP8 '.
  webp: Buffer.from('RIFF\x00\x10\x00\x00WEBPVP8 ', 'latin1'),
  // ISO base media: an ftyp box (size 24) whose major brand tells a still image (heic, mif1) from a sequence.
  heic: ftyp('heic', 'mif1heic'),
  mif1: ftyp('mif1', 'mif1heic'),
  hevc: ftyp('hevc', 'msf1hevc'),
  msf1: ftyp('msf1', 'msf1hevc'),
  // ELF: 0x7f 'E' 'L' 'F', 64-bit, little endian, version 1 (a Linux executable).
  elf: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x3e, 0x00]),
} as const;

/** A DOS/PE executable's first bytes: 'MZ', then the PE header at the offset e_lfanew (0x40) names. */
function peHeader(): Buffer {
  const b = Buffer.alloc(0x80);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x40, 0x3c);
  b.write('PE\0\0', 0x40, 'latin1');
  b.writeUInt16LE(0x8664, 0x44);
  return b;
}

/** A PNG's signature, IHDR (1×1) and the header of an IDAT chunk holding the rest: file-type reads chunks up to IDAT. */
function pngHeader(bytes: number): Buffer {
  const b = Buffer.alloc(8 + 25 + 8);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(1, 16);
  b.writeUInt32BE(1, 20);
  b.writeUInt8(8, 24);
  b.writeUInt8(2, 25);
  b.writeInt32BE(Math.max(0, bytes - b.length - 4), 33);
  b.write('IDAT', 37, 'latin1');
  return b;
}

export type SampleKind = keyof typeof MAGIC | 'pe' | 'png';

/** `bytes` bytes that start as a file of `kind` (random after the header). */
export function sampleFile(kind: SampleKind, bytes: number): Buffer {
  const head = kind === 'pe' ? peHeader() : kind === 'png' ? pngHeader(bytes) : MAGIC[kind];
  const out = Buffer.alloc(Math.max(bytes, head.length));
  head.copy(out);
  randomBytes(out.length - head.length).copy(out, head.length);
  return out.subarray(0, Math.max(bytes, head.length));
}
