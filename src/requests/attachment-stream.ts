// The attachment on its way to storage: its type read from its first bytes (never the name or the declared type),
// then every byte counted against the limit and hashed as it passes, so nothing holds the whole file.
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { AttachmentTooLargeError, AttachmentTypeRefusedError } from './request-errors.js';

/** The media types taken, as file-type names them: JPEG, PNG, WebP, HEIC (its still-image brands) and PDF. */
export const ATTACHMENT_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif', 'application/pdf']);

/** What file-type reads to tell these types apart (its own "reasonable detection size"). */
export const SNIFF_BYTES = 4_100;

export interface SniffedAttachment {
  readonly contentType: string;
  /** The whole file again: the bytes read to sniff it, then the rest of the source. */
  readonly body: Readable;
}

type Chunks = AsyncIterator<unknown>;

const asBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));

/** Reads up to SNIFF_BYTES (fewer when the file is shorter); the same iterator then yields the rest. */
async function peek(iterator: Chunks, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = asBuffer(next.value);
    chunks.push(chunk);
    length += chunk.length;
    // A chunk bigger than the limit is refused here, before anything is stored.
    if (length > limit) throw new AttachmentTooLargeError(limit);
  }
  return Buffer.concat(chunks, length);
}

/**
 * Sniffs the source's type from its first bytes; refuses (AttachmentTypeRefusedError) anything but ATTACHMENT_TYPES,
 * an empty file included. The body it returns replays the bytes read, then streams the rest with backpressure.
 */
export async function sniffAttachment(source: Readable, limit: number): Promise<SniffedAttachment> {
  // One iterator for the whole read: a second one on the same stream would race the first for its chunks.
  const iterator = source[Symbol.asyncIterator]();
  const head = await peek(iterator, limit);
  const found = head.length > 0 ? await fileTypeFromBuffer(head) : undefined;
  if (!found || !ATTACHMENT_TYPES.has(found.mime)) {
    source.destroy();
    throw new AttachmentTypeRefusedError(found?.mime);
  }
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield asBuffer(next.value);
    } finally {
      // Stopped early (the limit, storage failing): the source is released, not left paused.
      await iterator.return?.();
    }
  }
  return { contentType: found.mime, body: Readable.from(replay(), { objectMode: false }) };
}

/** Counts and hashes the bytes that pass; fails with AttachmentTooLargeError at the first byte over `limit`. */
export class MeasuredBody extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(new AttachmentTooLargeError(this.limit));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** The SHA-256 of everything that passed (hex); call once, after the end. */
  sha256(): string {
    return this.hash.digest('hex');
  }
}
