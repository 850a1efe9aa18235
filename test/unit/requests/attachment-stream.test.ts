// The attachment's way to storage (src/requests/attachment-stream.ts): its type read from its content, the bytes read
// to tell it given back with the rest, every byte counted and hashed, and the limit refused at its first byte over.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { MeasuredBody, sniffAttachment } from '../../../src/requests/index.js';
import { sampleFile } from '../../support/attachments.js';

/** The bytes as a stream of small chunks, as a socket delivers them. */
function chunked(bytes: Buffer, size = 1_000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

describe('attachment sniffing', () => {
  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['pdf', 'application/pdf'],
    ['webp', 'image/webp'],
    ['heic', 'image/heic'],
    ['mif1', 'image/heif'],
  ] as const)('takes a %s by its content and gives back every byte, the sniffed ones first', async (kind, mime) => {
    const file = sampleFile(kind, 50_000);
    const sniffed = await sniffAttachment(chunked(file), 1_000_000);
    expect(sniffed.contentType).toBe(mime);
    expect((await buffer(sniffed.body)).equals(file)).toBe(true);
  });

  it.each(['hevc', 'msf1'] as const)('refuses an image sequence (%s: image/heic-sequence, image/heif-sequence) with 415', async (kind) => {
    await expect(sniffAttachment(chunked(sampleFile(kind, 20_000)), 1_000_000)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it.each(['elf', 'pe'] as const)('refuses an executable (%s) with 415 UNSUPPORTED_MEDIA_TYPE', async (kind) => {
    await expect(sniffAttachment(chunked(sampleFile(kind, 20_000)), 1_000_000)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('refuses an empty file and text that is none of the types', async () => {
    await expect(sniffAttachment(Readable.from([], { objectMode: false }), 1_000)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    await expect(sniffAttachment(chunked(Buffer.from('hello, this is plain text '.repeat(400))), 1_000_000)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('takes a file shorter than what is read to sniff', async () => {
    const file = sampleFile('jpeg', 100);
    const sniffed = await sniffAttachment(chunked(file, 7), 1_000);
    expect((await buffer(sniffed.body)).equals(file)).toBe(true);
  });

  it('refuses with 413 when the bytes read to sniff are already over the limit', async () => {
    await expect(sniffAttachment(Readable.from([sampleFile('jpeg', 5_000)], { objectMode: false }), 4_000)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('measured body', () => {
  it('counts and hashes what passes', async () => {
    const file = sampleFile('png', 123_457);
    const measured = new MeasuredBody(200_000);
    const chunks: Buffer[] = [];
    await pipeline(chunked(file), measured, async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) chunks.push(c);
    });
    expect(measured.bytes).toBe(file.length);
    expect(measured.sha256()).toBe(createHash('sha256').update(file).digest('hex'));
    expect(Buffer.concat(chunks).equals(file)).toBe(true);
  });

  it('takes exactly the limit and fails at one byte more with 413 PAYLOAD_TOO_LARGE', async () => {
    await pipeline(chunked(sampleFile('pdf', 10_000)), new MeasuredBody(10_000), async (s: AsyncIterable<Buffer>) => {
      for await (const _ of s);
    });
    const over = pipeline(chunked(sampleFile('pdf', 10_001)), new MeasuredBody(10_000), async (s: AsyncIterable<Buffer>) => {
      for await (const _ of s);
    });
    await expect(over).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});
