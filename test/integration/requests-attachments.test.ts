// Requests with a file through a whole node on the real PostgreSQL, RabbitMQ and s3rver (the objects actor, a bucket
// of this file's own so that listing it shows exactly what this file stored): the stored object equals what was sent,
// WebP and HEIC/HEIF photos are taken (an image sequence is not), 10 MB + 1 byte is 413 with nothing stored, an
// executable named photo.jpg is 415, a stranger gets 404 for the
// attachment, presigned URLs carry the public host and expire, an orphaned upload is swept from storage, and account
// deletion's retention deletes the files. s3rver does not verify SigV4 signatures: only the URL's host, expiry and the
// headers it makes storage answer with are checked here.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RequestJanitorMessage } from '../../actors/services/request-janitor-actor.js';
import type { RunningNode } from '../../src/node.js';
import { sampleFile } from '../support/attachments.js';
import { insertCustomer, insertLink, TEST_PIN, type TestUser } from '../support/meter-links.js';
import { multipartBody, type Part } from '../support/multipart-body.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { bucketKeys, fieldsOf, fileRequest, insertAgencies, objectExists, storageClient, storageRunning, storedObject } from '../support/requests.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const MAX = 10 * 1024 * 1024;
const BUCKET = `requests-${randomBytes(4).toString('hex')}`;
// The shared s3rver under another name: what clients would reach, as against the API's internal address.
const PUBLIC_ENDPOINT = (() => {
  const u = new URL(servicesEnv().TEST_S3_ENDPOINT);
  u.hostname = 'localhost';
  return u.origin;
})();
let db: TestDatabase;
let vhost: TestVhost;
let node: RunningNode;
let sql: pg.Pool;
let s3: S3Client;
let A: TestUser;
let B: TestUser;
let linkA: string;

const api = (): string => node.apiUrl!;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const photo = (data: Buffer, filename = 'photo.jpg', type = 'image/jpeg'): Part => ({ name: 'file', filename, type, data });
const counts = async () => (await sql.query<{ requests: string; uploads: string }>(`SELECT (SELECT count(*) FROM requests) AS requests, (SELECT count(*) FROM attachment_uploads) AS uploads`)).rows[0]!;
const sweep = () => node.runtime.ask<RequestJanitorMessage, 'sweep'>('request-janitor', 'sweep', { uploadAgeMs: 1_000 }, 10_000);
async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${api()}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

beforeAll(async () => {
  db = await createTestDatabase();
  vhost = await createTestVhost();
  node = await startTestNode({
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    S3_BUCKET: BUCKET,
    S3_PUBLIC_ENDPOINT: PUBLIC_ENDPOINT,
    REQUEST_ATTACHMENT_URL_TTL_S: '2',
    // The janitor sweeps only when asked here (a pass per hour otherwise), each pass taking an upload row older than 1 s (its sweep message's age),
    // and a deleted account's files are due at once.
    REQUEST_JANITOR_INTERVAL_MS: '3600000',
    REQUEST_ATTACHMENT_RETENTION_MS: '0',
  });
  await waitFor('ready and storage running', () => node.runtime.readiness('test').ready && storageRunning(node), 30_000);
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  s3 = storageClient();
  await insertAgencies(sql, ['DAKAR-PLATEAU', 'THIES']);
  A = await insertCustomer(sql, '+221779930001', 'Aminata');
  B = await insertCustomer(sql, '+221779930002', 'Binta');
  linkA = await insertLink(sql, { userId: A.id, kind: 'prepaid', meter: '14299300001', police: 'P300001', agency: 'DAKAR-PLATEAU' });
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await vhost?.delete();
  await db?.drop();
  s3?.destroy();
});

describe('attachments in storage', () => {
  it('stores exactly what was sent: s3rver\'s copy has the SHA-256 of the file, under an unguessable key', async () => {
    const file = sampleFile('jpeg', 1_500_000);
    const res = await fileRequest(api(), A.token, [...fieldsOf({ type: 'meter_problem', linkId: linkA }), photo(file)]);
    expect(res.status).toBe(201);
    expect(res.body.attachment).toEqual({ contentType: 'image/jpeg', bytes: file.length, sha256: sha(file) });
    const { rows } = await sql.query<{ attachment_key: string }>(`SELECT attachment_key FROM requests WHERE id = $1`, [res.body.id]);
    const key = rows[0]!.attachment_key;
    expect(key).toMatch(/^requests\/[A-Za-z0-9_-]{32}$/);
    expect(key).not.toContain(res.body.id);
    expect(await storedObject(s3, BUCKET, key)).toEqual({ sha256: sha(file), contentType: 'image/jpeg' });
    expect((await counts()).uploads).toBe('0');
  });

  it.each([
    ['webp', 'photo.webp', 'image/webp'],
    ['heic', 'IMG_0001.HEIC', 'image/heic'],
    ['mif1', 'IMG_0002.HEIF', 'image/heif'],
  ] as const)('takes a %s photo as a phone sends it and stores it under the type its content names', async (kind, filename, mime) => {
    const file = sampleFile(kind, 120_000);
    const res = await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(file, filename, 'application/octet-stream')]);
    expect(res.status).toBe(201);
    expect(res.body.attachment).toEqual({ contentType: mime, bytes: file.length, sha256: sha(file) });
    const { rows } = await sql.query<{ attachment_key: string }>(`SELECT attachment_key FROM requests WHERE id = $1`, [res.body.id]);
    expect(await storedObject(s3, BUCKET, rows[0]!.attachment_key)).toEqual({ sha256: sha(file), contentType: mime });
  });

  it('refuses an image sequence (image/heic-sequence, a burst or live photo) with 415, storing nothing', async () => {
    const before = { counts: await counts(), keys: await bucketKeys(s3, BUCKET) };
    const res = await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile('hevc', 120_000), 'IMG_0003.HEIC', 'image/heic')]);
    expect(res).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(await counts()).toEqual(before.counts);
    expect(await bucketKeys(s3, BUCKET)).toEqual(before.keys);
  });

  it('answers 10 MB + 1 byte with 413 problem+json and stores nothing: no row, no object', async () => {
    const before = { counts: await counts(), keys: await bucketKeys(s3, BUCKET) };
    const res = await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile('pdf', MAX + 1), 'big.pdf', 'application/pdf')]);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await counts()).toEqual(before.counts);
    expect(await bucketKeys(s3, BUCKET)).toEqual(before.keys);
    // Exactly the limit is taken.
    expect((await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile('pdf', MAX), 'max.pdf', 'application/pdf')])).status).toBe(201);
  });

  it('refuses at once (413) a body whose Content-Length is already over the limit', async () => {
    const before = await counts();
    const res = await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile('jpeg', MAX + 100_000))]);
    expect(res).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await counts()).toEqual(before);
  });

  it.each(['elf', 'pe'] as const)('refuses a renamed executable (%s as photo.jpg, image/jpeg) with 415, storing nothing', async (kind) => {
    const before = { counts: await counts(), keys: await bucketKeys(s3, BUCKET) };
    const res = await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile(kind, 200_000))]);
    expect(res).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await counts()).toEqual(before.counts);
    expect(await bucketKeys(s3, BUCKET)).toEqual(before.keys);
  });

  it('refuses a field after the file (400 MULTIPART_INVALID) and keeps nothing of it', async () => {
    const before = { counts: await counts(), keys: await bucketKeys(s3, BUCKET) };
    // Valid fields first (the message is sent), then a field after the file: the upload fails and nothing stays.
    const res = await fileRequest(api(), A.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile('png', 300_000)), { name: 'note', value: 'late' }]);
    expect(res).toMatchObject({ status: 400, body: { code: 'MULTIPART_INVALID' } });
    expect(await counts()).toEqual(before.counts);
    expect(await bucketKeys(s3, BUCKET)).toEqual(before.keys);
  });
});

describe('an upload cut short', () => {
  it('leaves no row and no object when the client goes away mid-file', async () => {
    const before = { counts: await counts(), keys: await bucketKeys(s3, BUCKET) };
    const { body, contentType } = multipartBody([...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile('jpeg', 8_000_000))]);
    const req = request(`${api()}/v1/requests`, { method: 'POST', headers: { authorization: `Bearer ${A.token}`, 'content-type': contentType, 'content-length': body.length } });
    const gone = new Promise<void>((resolve) => req.on('error', () => resolve()));
    req.write(body.subarray(0, 6_000_000));
    // Once the upload is under way (its row committed), the client disconnects.
    await waitFor('the upload row', async () => Number((await counts()).uploads) === Number(before.counts.uploads) + 1);
    req.destroy();
    await gone;
    await waitFor('the upload cleaned up', async () => Number((await counts()).uploads) === Number(before.counts.uploads));
    expect(await counts()).toEqual(before.counts);
    expect(await bucketKeys(s3, BUCKET)).toEqual(before.keys);
  });
});

describe('downloads', () => {
  it('gives the author a short-lived URL on the public host that downloads the file, and a stranger the 404 of an unknown id', async () => {
    const file = sampleFile('png', 40_000);
    const { body: filed } = await fileRequest(api(), A.token, [...fieldsOf({ type: 'meter_problem', linkId: linkA }), photo(file, 'x.png', 'image/png')]);
    const link = await call('GET', `/v1/requests/${filed.id}/attachment`, A.token);
    expect(link.status).toBe(200);
    const url = new URL(link.body.url);
    // The public address, which the API itself never uses (it stores through 127.0.0.1).
    expect(url.origin).toBe(PUBLIC_ENDPOINT);
    expect(url.pathname).toBe(`/${BUCKET}/${(await sql.query(`SELECT attachment_key FROM requests WHERE id = $1`, [filed.id])).rows[0].attachment_key}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('2');
    expect(Date.parse(link.body.expiresAt)).not.toBeNaN();
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="request-[0-9a-f]{8}\.png"/);
    expect(sha(Buffer.from(await got.arrayBuffer()))).toBe(sha(file));
    // Expired: s3rver refuses it (403) once its 2 seconds passed.
    const refused = await waitFor('the URL refused', async () => {
      const res = await fetch(url);
      return res.status === 200 ? (await res.arrayBuffer(), undefined) : res.status;
    }, 15_000);
    expect(refused).toBe(403);
    const unknown = await call('GET', '/v1/requests/6f7c1f7e-2a51-4b59-9e57-3f6b2ad0c1e4/attachment', B.token);
    const stranger = await call('GET', `/v1/requests/${filed.id}/attachment`, B.token);
    expect(stranger).toMatchObject({ status: 404, body: { code: 'REQUEST_NOT_FOUND' } });
    expect(stranger.body.detail).toBe(unknown.body.detail);
  });
});

describe('orphans and retention', () => {
  it('sweeps the object of an upload whose request insert failed (the type withdrawn between check and insert)', async () => {
    const before = await bucketKeys(s3, BUCKET);
    // The body is sent in two halves: the type is withdrawn while the file is on its way.
    const { body, contentType } = multipartBody([...fieldsOf({ type: 'other', agency: 'THIES' }), photo(sampleFile('jpeg', 600_000))]);
    const answer = new Promise<{ status: number; body: Record<string, any> }>((resolve, reject) => {
      const req = request(`${api()}/v1/requests`, { method: 'POST', headers: { authorization: `Bearer ${A.token}`, 'content-type': contentType, 'content-length': body.length } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, any> }));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 300_000));
      void waitFor('the upload row', async () => Number((await counts()).uploads) === 1).then(async () => {
        await sql.query(`UPDATE request_types SET active = false WHERE code = 'other'`);
        req.end(body.subarray(300_000));
      }, reject);
    });
    try {
      expect(await answer).toMatchObject({ status: 400, body: { code: 'REQUEST_TYPE_UNKNOWN' } });
    } finally {
      await sql.query(`UPDATE request_types SET active = true WHERE code = 'other'`);
    }
    const { rows } = await sql.query<{ object_key: string }>(`SELECT object_key FROM attachment_uploads`);
    expect(rows).toHaveLength(1);
    const orphan = rows[0]!.object_key;
    expect(await bucketKeys(s3, BUCKET)).toEqual([...before, orphan].sort());
    // Once older than the sweep age, the janitor deletes the object (checked on s3rver), then the row.
    await waitFor('the orphan swept', async () => (await sweep()).orphans === 1, 10_000);
    expect(await objectExists(s3, BUCKET, orphan)).toBe(false);
    expect(await bucketKeys(s3, BUCKET)).toEqual(before);
    expect((await counts()).uploads).toBe('0');
  });

  it('deletes a deleted account\'s attachments after the retention, marking them deleted', async () => {
    const C = await insertCustomer(sql, '+221779930003', 'Cheikh');
    const { body: filed } = await fileRequest(api(), C.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), photo(sampleFile('jpeg', 30_000))]);
    const key = (await sql.query<{ attachment_key: string }>(`SELECT attachment_key FROM requests WHERE id = $1`, [filed.id])).rows[0]!.attachment_key;
    expect(await objectExists(s3, BUCKET, key)).toBe(true);
    expect(await call('DELETE', '/v1/me', C.token, { pin: TEST_PIN })).toMatchObject({ status: 204 });
    await waitFor('the attachment deleted', async () => (await sweep()).expired >= 1, 10_000);
    expect(await objectExists(s3, BUCKET, key)).toBe(false);
    const { rows } = await sql.query(`SELECT author_id, comment, attachment_deleted_at FROM requests WHERE id = $1`, [filed.id]);
    expect(rows[0]).toMatchObject({ author_id: null, comment: '' });
    expect(rows[0].attachment_deleted_at).toBeInstanceOf(Date);
    expect((await sweep()).expired).toBe(0);
  });
});
