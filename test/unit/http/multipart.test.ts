// The multipart reader (http/multipart.ts): fields first, then one file handed on as a stream that ends only when the
// whole body parsed cleanly; anything else a typed 400 (MULTIPART_INVALID) or 415, never a file half taken.
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { readMultipart, type MultipartLimits } from '../../../http/multipart.js';
import { sampleFile } from '../../support/attachments.js';
import { multipartBody, type Part } from '../../support/multipart-body.js';

const LIMITS: MultipartLimits = { fileField: 'file', maxFields: 4, maxFieldBytes: 100, maxFileBytes: 1_000_000, maxDiscardBytes: 2_000_000 };

/** A request carrying `body` in chunks, as a socket would. */
function request(body: Buffer, contentType: string): { req: IncomingMessage; headers: Record<string, string> } {
  const req = new PassThrough();
  const headers = { 'content-type': contentType, 'content-length': String(body.length) };
  Object.assign(req, { headers });
  setImmediate(() => {
    for (let i = 0; i < body.length; i += 4_096) req.write(body.subarray(i, i + 4_096));
    req.end();
  });
  return { req: req as unknown as IncomingMessage, headers };
}

function read(parts: readonly Part[]) {
  const { body, contentType } = multipartBody(parts);
  const { req, headers } = request(body, contentType);
  return readMultipart(req, headers, LIMITS);
}

const photo = sampleFile('jpeg', 20_000);
const filePart: Part = { name: 'file', filename: 'photo.jpg', type: 'image/jpeg', data: photo };

describe('multipart reader', () => {
  it('gives the fields, then the file as a stream of exactly its bytes', async () => {
    const form = await read([{ name: 'type', value: 'complaint' }, { name: 'comment', value: 'No power' }, filePart]);
    expect(form.fields).toEqual({ type: 'complaint', comment: 'No power' });
    expect(form.file?.filename).toBe('photo.jpg');
    expect((await buffer(form.file!.stream)).equals(photo)).toBe(true);
  });

  it('resolves with the fields alone when there is no file', async () => {
    const form = await read([{ name: 'type', value: 'complaint' }]);
    expect(form.fields).toEqual({ type: 'complaint' });
    expect(form.file).toBeUndefined();
  });

  it('fails the file with MULTIPART_INVALID when a field comes after it', async () => {
    const form = await read([{ name: 'type', value: 'complaint' }, filePart, { name: 'comment', value: 'late' }]);
    await expect(buffer(form.file!.stream)).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
  });

  it('fails the first file when a second one follows', async () => {
    const form = await read([filePart, { ...filePart, filename: 'second.jpg' }]);
    await expect(buffer(form.file!.stream)).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
  });

  it('refuses a field sent twice, a field too long, too many fields and a file under another name', async () => {
    await expect(read([{ name: 'type', value: 'a' }, { name: 'type', value: 'b' }])).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
    await expect(read([{ name: 'comment', value: 'x'.repeat(101) }])).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
    await expect(read(['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, value: '1' })))).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
    await expect(read([{ ...filePart, name: 'photo' }])).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
  });

  it('refuses another media type with 415 and a multipart type without a boundary with 400', async () => {
    const json = request(Buffer.from('{}'), 'application/json');
    await expect(readMultipart(json.req, json.headers, LIMITS)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const bare = request(Buffer.from('x'), 'multipart/form-data');
    await expect(readMultipart(bare.req, bare.headers, LIMITS)).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
  });

  it('refuses a body cut short before its closing boundary', async () => {
    const { body, contentType } = multipartBody([{ name: 'type', value: 'complaint' }]);
    const { req, headers } = request(body.subarray(0, body.length - 10), contentType);
    await expect(readMultipart(req, headers, LIMITS)).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
  });

  it('fails the file stream when the upload is discarded before its end', async () => {
    // Large enough that the stream's buffers cannot hold it: the body is still being read when it is discarded.
    const form = await read([{ ...filePart, data: sampleFile('jpeg', 900_000) }]);
    form.discard();
    await expect(buffer(form.file!.stream)).rejects.toMatchObject({ code: 'MULTIPART_INVALID' });
  });
});
