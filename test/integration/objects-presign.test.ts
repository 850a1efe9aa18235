// Presigned downloads on the storage's public address: their host, expiry and forced download, checked on s3rver.
// s3rver does not verify SigV4 signatures (FACTS.md; its authentication middleware accepts any V4 signature from a
// known key), so what can be checked here is the URL's host, its expiry, and the headers it makes storage answer
// with — not the signature itself, which MinIO verifies in production (and which covers the public host).
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest, sharedS3Settings, startObjectsRuntime, type ObjectsRuntime } from '../support/objects.js';
import { waitFor } from '../support/wait.js';

describe('presigned downloads', () => {
  let objects: ObjectsRuntime;
  let internal: URL;
  let publicEndpoint: URL;
  const key = `test/${randomUUID()}`;
  const body = Buffer.from('%PDF-1.7 presigned download');
  beforeAll(async () => {
    const shared = sharedS3Settings();
    internal = new URL(shared.endpoint);
    // The same server under another name: the URL must carry the public one, which the API itself never uses.
    publicEndpoint = new URL(shared.endpoint);
    publicEndpoint.hostname = 'localhost';
    objects = await startObjectsRuntime({ storage: { kind: 'external', settings: { ...shared, publicEndpoint: publicEndpoint.origin } }, createBucket: true });
    await waitFor('objects running', () => objects.node().state === 'running');
    await (await objects.lend()).put(key, Readable.from([body]), { contentType: 'application/pdf' });
  });
  afterAll(async () => {
    await (await objects?.lend())?.delete(key);
    await objects?.stop();
  });

  it('is on the public endpoint’s host and carries its expiry and the attachment disposition', async () => {
    const url = new URL(await (await objects.lend()).presignDownload(key, { expiresInS: 300, filename: 'Reçu "mars".pdf' }));
    expect(internal.hostname).toBe('127.0.0.1');
    expect(url.host).toBe(publicEndpoint.host);
    expect(url.pathname).toBe(`/${sharedS3Settings().bucket}/${key}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('response-content-disposition')).toBe(`attachment; filename="Re_u _mars_.pdf"; filename*=UTF-8''Re%C3%A7u%20_mars_.pdf`);
  });

  it('gives the bytes before it expires, with the attachment header (s3rver honours response-content-disposition)', async () => {
    const url = await (await objects.lend()).presignDownload(key, { expiresInS: 60, filename: 'facture.pdf' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="facture.pdf"; filename*=UTF-8''facture.pdf`);
    expect(await digest(Readable.fromWeb(res.body! as ReadableStream))).toEqual(await digest(Readable.from([body])));
  });

  it('is refused once expired (a 1-second URL, waited on until storage says so)', async () => {
    const url = await (await objects.lend()).presignDownload(key, { expiresInS: 1, filename: 'facture.pdf' });
    // X-Amz-Date has whole seconds, so the URL may already be past its second when first fetched: wait for the refusal.
    const refused = await waitFor('the URL refused', async () => {
      const res = await fetch(url);
      return res.status === 200 ? (await res.arrayBuffer(), undefined) : { status: res.status, text: await res.text() };
    }, 10_000);
    expect(refused.status).toBe(403);
    expect(refused.text).toMatch(/<Code>AccessDenied<\/Code>/);
    expect(refused.text).toMatch(/Request has expired/);
  });
});
