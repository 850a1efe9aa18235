// Filing with a file while storage is down, on a private s3rver of this file's own (the shared one is never stopped):
// 503 STORAGE_UNAVAILABLE with Retry-After and no request row, whether the upload meets the outage or the objects
// actor already knows it; a request without a file is still taken; an upload row the failed upload could not clean
// up is finished by the janitor once storage is back (s3rver's own listing as witness, not only the upload rows).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/adapters/s3/embedded-s3.js';
import type { RunningNode } from '../../src/node.js';
import type { RequestJanitorMessage } from '../../actors/services/request-janitor-actor.js';
import { sampleFile } from '../support/attachments.js';
import { insertCustomer, type TestUser } from '../support/meter-links.js';
import { actorNode, startTestNode } from '../support/node.js';
import { bucketKeys, fieldsOf, fileRequest, insertAgencies, storageClient, storageRunning } from '../support/requests.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let s3: EmbeddedS3 | undefined;
let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
let customer: TestUser;
let storage: S3Client;

const api = (): string => node.apiUrl!;
const requestRows = async () => Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM requests`)).rows[0]!.n);
// s3rver's own listing, the witness of what storage holds (the same port and keys across the restart).
const storedKeys = () => bucketKeys(storage, 'requests-outage');
const uploadRows = async () => Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM attachment_uploads`)).rows[0]!.n);
const withFile = () => [...fieldsOf({ type: 'complaint', agency: 'THIES' }), { name: 'file', filename: 'p.jpg', type: 'image/jpeg', data: sampleFile('jpeg', 200_000) }];
const objectsState = (): string | undefined => actorNode(node, 'objects')?.stats.state;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samaconso-requests-outage-'));
  s3 = await startEmbeddedS3({ directory: dir });
  storage = storageClient(s3);
  db = await createTestDatabase();
  node = await startTestNode({
    DATABASE_URL: db.url,
    S3_ENDPOINT: s3.endpoint,
    S3_PUBLIC_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_BUCKET: 'requests-outage',
    S3_REQUEST_TIMEOUT_MS: '2000',
    REQUEST_JANITOR_INTERVAL_MS: '3600000',
  });
  await waitFor('ready and storage running', () => node.runtime.readiness('test').ready && storageRunning(node), 30_000);
  sql = new pg.Pool({ connectionString: db.url, max: 1 });
  await insertAgencies(sql, ['THIES']);
  customer = await insertCustomer(sql, '+221779950001');
}, 60_000);
afterAll(async () => {
  await node?.stop();
  storage?.destroy();
  await sql?.end();
  await db?.drop();
  await s3?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('filing while storage is down', () => {
  it('answers 503 STORAGE_UNAVAILABLE with Retry-After and writes no request row, then recovers', async () => {
    expect((await fileRequest(api(), customer.token, withFile())).status).toBe(201);
    const before = await requestRows();
    const keysBefore = await storedKeys();
    expect(keysBefore).toHaveLength(1);
    const { port, accessKeyId, secretAccessKey } = s3!;
    await s3!.close();
    s3 = undefined;

    // The objects actor does not know yet: the upload itself meets the outage.
    const met = await fileRequest(api(), customer.token, withFile());
    expect(met).toMatchObject({ status: 503, body: { code: 'STORAGE_UNAVAILABLE' } });
    expect(met.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await requestRows()).toBe(before);

    // Now it knows (backing-off): refused before a byte is read or a row written.
    await waitFor('objects backing off', () => objectsState() === 'backing-off');
    const uploads = await uploadRows();
    const known = await fileRequest(api(), customer.token, withFile());
    expect(known).toMatchObject({ status: 503, body: { code: 'STORAGE_UNAVAILABLE' } });
    expect(known.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await requestRows()).toBe(before);
    expect(await uploadRows()).toBe(uploads);

    // A request without a file needs no storage.
    expect((await fileRequest(api(), customer.token, fieldsOf({ type: 'complaint', agency: 'THIES' }))).status).toBe(201);

    s3 = await startEmbeddedS3({ directory: dir, port, accessKeyId, secretAccessKey });
    await waitFor('objects running again', () => objectsState() === 'running', 30_000);
    // The upload that met the outage could not delete its object: its row waits for the janitor, which finishes it.
    await waitFor('no upload row left', async () => {
      await node.runtime.ask<RequestJanitorMessage, 'sweep'>('request-janitor', 'sweep', { uploadAgeMs: 1_000 }, 10_000);
      return (await uploadRows()) === 0;
    }, 15_000);
    // And storage itself holds what it held before the outage: nothing of the failed uploads.
    expect(await storedKeys()).toEqual(keysBefore);
    expect((await fileRequest(api(), customer.token, withFile())).status).toBe(201);
    expect(await storedKeys()).toHaveLength(2);
  });
});
