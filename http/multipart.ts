// Reads a multipart/form-data body as a stream (busboy): the text fields first, then at most one file, handed on as a
// stream that ends only once the whole body parsed cleanly, so a part after the file fails the upload rather than
// being ignored. Nothing of the file is held here beyond the stream's own buffers.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import busboy from 'busboy';
import { MultipartInvalidError, UnsupportedMediaTypeError } from './http-errors.js';

export interface MultipartLimits {
  /** The one file part's field name. */
  readonly fileField: string;
  /** Text fields taken at most. */
  readonly maxFields: number;
  /** The longest text field, in bytes. */
  readonly maxFieldBytes: number;
  /** Where busboy stops reading the file (the service counts and refuses past its own limit, below this). */
  readonly maxFileBytes: number;
  /** How much of an unread remainder is read and dropped after a refusal before the connection is cut. */
  readonly maxDiscardBytes: number;
}

export interface MultipartStart {
  /** The text fields before the file (or all of them, without a file); a name sent twice is refused. */
  readonly fields: Readonly<Record<string, string>>;
  /** The file part: its bytes, and the name the client gave (never trusted for anything but display). */
  readonly file: { readonly stream: Readable; readonly filename: string | undefined } | undefined;
  /** Stops reading: the rest of the body is dropped (up to maxDiscardBytes, then the connection is cut). */
  discard(): void;
}

/**
 * Resolves as soon as the file part begins (its stream still unread) or the body ends without one. Rejects with
 * UnsupportedMediaTypeError for another media type, MultipartInvalidError for a body that is not well formed, a
 * field after the file, a second file, or a part over the limits; after the file began, these fail its stream.
 */
export function readMultipart(req: IncomingMessage, headers: IncomingHttpHeaders, limits: MultipartLimits): Promise<MultipartStart> {
  const type = (headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('multipart/form-data')) {
    return Promise.reject(new UnsupportedMediaTypeError(`This route takes multipart/form-data, not ${type.split(';')[0] || 'an untyped body'}.`));
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      limits: { fields: limits.maxFields, fieldSize: limits.maxFieldBytes, fieldNameSize: 64, files: 1, parts: limits.maxFields + 1, headerPairs: 16, fileSize: limits.maxFileBytes },
    });
  } catch (e) {
    return Promise.reject(new MultipartInvalidError('The multipart body has no usable boundary.', { cause: e }));
  }
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let out: PassThrough | undefined;
    let settled = false;
    let discarding = false;

    const discard = (): void => {
      if (discarding) return;
      discarding = true;
      req.unpipe(parser);
      // Answered before the file was read through (a refusal, a deadline): whoever reads it stops with an error.
      if (out && !out.writableEnded) out.destroy(new MultipartInvalidError('The upload was refused before its end.'));
      dropBody(req, limits.maxDiscardBytes);
    };
    const start = (file: MultipartStart['file']): void => {
      settled = true;
      resolve({ fields, file, discard });
    };
    const fail = (error: Error): void => {
      if (!settled) {
        settled = true;
        reject(error);
      } else out?.destroy(error);
      discard();
    };

    parser.on('field', (name, value, info) => {
      if (out) return fail(new MultipartInvalidError(`The field "${name}" comes after the file: send every field before the file part.`));
      if (info.nameTruncated || info.valueTruncated) return fail(new MultipartInvalidError(`The field "${name}" is longer than ${limits.maxFieldBytes} bytes.`));
      if (Object.hasOwn(fields, name)) return fail(new MultipartInvalidError(`The field "${name}" is sent twice.`));
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== limits.fileField || out) {
        stream.resume();
        return fail(new MultipartInvalidError(out ? 'Only one file is taken.' : `A file part must be named "${limits.fileField}".`));
      }
      out = new PassThrough();
      // The error is kept on the stream (its reader meets it) even when it comes before anyone listens.
      out.on('error', () => undefined);
      // Ended at the body's end, not the part's: a part after the file must still fail the upload.
      stream.pipe(out, { end: false });
      stream.on('error', (e: Error) => fail(new MultipartInvalidError('The file part is cut short.', { cause: e })));
      start({ stream: out, filename: info.filename });
    });
    const overLimit = (what: string) => () => fail(new MultipartInvalidError(`The body has too many ${what}.`));
    parser.on('fieldsLimit', overLimit('fields'));
    parser.on('filesLimit', () => fail(new MultipartInvalidError('Only one file is taken.')));
    parser.on('partsLimit', overLimit('parts'));
    parser.on('error', (e: Error) => fail(new MultipartInvalidError(`The multipart body is malformed (${e.message}).`, { cause: e })));
    parser.on('finish', () => {
      if (discarding) return;
      if (out) out.end();
      else start(undefined);
    });
    req.on('aborted', () => fail(new MultipartInvalidError('The client stopped sending the body.')));
    req.on('error', (e: Error) => fail(new MultipartInvalidError('The body could not be read.', { cause: e })));
    req.pipe(parser);
  });
}

/** Reads and drops what is left of a body (so the client can read the answer), cutting the connection past `max`. */
export function dropBody(req: IncomingMessage, max: number): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    // A client that keeps sending after a refusal is cut off rather than read forever.
    if (dropped > max) req.destroy();
  });
  req.resume();
}
