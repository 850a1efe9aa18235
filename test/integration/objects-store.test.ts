// The objects actor on the shared s3rver: what it stores is what was sent, byte for byte; deletes are idempotent.
import { randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/adapters/s3/s3-object-store.js';
import { digest, generatedStream, pendingUploads, sharedS3Settings, startObjectsRuntime, type ObjectsRuntime } from '../support/objects.js';
import { waitFor } from '../support/wait.js';

describe('objects actor on s3rver', () => {
  let objects: ObjectsRuntime;
  beforeAll(async () => {
    objects = await startObjectsRuntime({ storage: { kind: 'external', settings: sharedS3Settings() }, createBucket: true });
    await waitFor('objects running', () => objects.node().state === 'running');
  });
  afterAll(async () => {
    await objects?.stop();
  });

  it('puts a stream, gets the same bytes back (SHA-256), and head gives its size and type', async () => {
    const store = await objects.lend();
    const key = `test/${randomUUID()}`;
    // Two parts and a bit: the multipart path, not the single PUT.
    const size = 11 * 1024 * 1024 + 7;
    const source = generatedStream(size);
    expect(await store.put(key, source.stream, { contentType: 'application/pdf' })).toEqual({ bytes: size });
    const back = await digest(await store.get(key));
    expect(back).toEqual({ sha256: source.sha256(), bytes: size });
    expect(await store.head(key)).toEqual({ bytes: size, contentType: 'application/pdf' });
    await store.delete(key);
    expect(await store.head(key)).toBeUndefined();
  });

  it('stores a small body in one PUT, byte for byte', async () => {
    const store = await objects.lend();
    const key = `test/${randomUUID()}`;
    const body = Buffer.from('%PDF-1.4 small\n');
    expect(await store.put(key, Readable.from([body]), { contentType: 'application/pdf' })).toEqual({ bytes: body.length });
    expect(await digest(await store.get(key))).toEqual(await digest(Readable.from([body])));
    await store.delete(key);
  });

  it('head of a missing key is undefined, get of one is OBJECT_NOT_FOUND, and deleting one is fine', async () => {
    const store = await objects.lend();
    const key = `test/missing-${randomUUID()}`;
    expect(await store.head(key)).toBeUndefined();
    await expect(store.get(key)).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND', key });
    await expect(store.delete(key)).resolves.toBeUndefined();
    // None of these is an outage: the actor stays running.
    expect(objects.node().state).toBe('running');
  });

  it('a body that fails rejects the put with the body’s own error and leaves no object', async () => {
    const store = await objects.lend();
    const key = `test/${randomUUID()}`;
    const tooBig = new Error('over the limit');
    const source = generatedStream(12 * 1024 * 1024);
    let sent = 0;
    // A body that fails past its first part, as a request's size limit does: the multipart upload has begun.
    const failing = source.stream.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sent += chunk.length;
          done(sent > 7 * 1024 * 1024 ? tooBig : null, chunk);
        },
      }),
    );
    await expect(store.put(key, failing, { contentType: 'image/png' })).rejects.toBe(tooBig);
    // An incomplete multipart upload never makes an object: what shows the abort is that no upload is left.
    expect(await pendingUploads(key)).toEqual([]);
    expect(await store.head(key)).toBeUndefined();
    expect(objects.node().state).toBe('running');
  });

  it('an upload aborted on its signal rejects with the abort’s reason, leaves no object, and is no outage', async () => {
    const store = await objects.lend();
    const key = `test/${randomUUID()}`;
    const controller = new AbortController();
    const source = generatedStream(20 * 1024 * 1024);
    let sent = 0;
    // Aborted once the first part is on its way: a client that went away mid-upload.
    const watched = source.stream.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sent += chunk.length;
          if (sent > 6 * 1024 * 1024 && !controller.signal.aborted) controller.abort(new Error('client went away'));
          done(null, chunk);
        },
      }),
    );
    await expect(store.put(key, watched, { contentType: 'image/jpeg', signal: controller.signal })).rejects.toThrow('client went away');
    // The abort of the upload follows the rejection (lib-storage sends it once its part in flight settles).
    await waitFor('no upload left', async () => (await pendingUploads(key)).length === 0);
    expect(await store.head(key)).toBeUndefined();
    expect(objects.node().state).toBe('running');
  });

  it('a body closed before its end rejects the put (no wait for an end that never comes) and leaves no object', async () => {
    const store = await objects.lend();
    const key = `test/${randomUUID()}`;
    const source = generatedStream(12 * 1024 * 1024);
    let sent = 0;
    const cut = source.stream.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sent += chunk.length;
          done(null, chunk);
          // A client that hangs up: the stream is destroyed without an error of its own.
          if (sent > 6 * 1024 * 1024) this.destroy();
        },
      }),
    );
    await expect(store.put(key, cut, { contentType: 'image/png' })).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(await pendingUploads(key)).toEqual([]);
    expect(await store.head(key)).toBeUndefined();
    expect(objects.node().state).toBe('running');
  });

  it('head on a bucket that does not exist is STORAGE_REQUEST_FAILED (NoSuchBucket), not "no such object"', async () => {
    let outages = 0;
    const store = new S3ObjectStore(sharedS3Settings({ bucket: `no-such-bucket-${randomUUID().slice(0, 8)}` }), () => outages++);
    try {
      // HEAD of a key in a missing bucket is a bare 404, like a missing key in a present one.
      await expect(store.head('k')).rejects.toMatchObject({ code: 'STORAGE_REQUEST_FAILED', s3Code: 'NoSuchBucket', httpStatus: 404 });
      expect(outages).toBe(0);
    } finally {
      store.destroy();
    }
  });

  it('storage refusing the upload (no such bucket) is STORAGE_REQUEST_FAILED, not an outage, and the body is left to the caller', async () => {
    let outages = 0;
    const store = new S3ObjectStore(sharedS3Settings({ bucket: `no-such-bucket-${randomUUID().slice(0, 8)}` }), () => outages++);
    try {
      const source = generatedStream(12 * 1024 * 1024);
      await expect(store.put('k', source.stream, { contentType: 'image/png' })).rejects.toMatchObject({ code: 'STORAGE_REQUEST_FAILED', s3Code: 'NoSuchBucket' });
      expect(outages).toBe(0);
      // Unpiped, not destroyed: the caller drains or destroys it (a request stream).
      expect(source.stream.destroyed).toBe(false);
      source.stream.destroy();
    } finally {
      store.destroy();
    }
  });
});
