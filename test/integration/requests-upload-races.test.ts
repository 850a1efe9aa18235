// The janitor against filings in flight, on the real PostgreSQL and s3rver (a bucket of this file's own, so that its
// listing shows exactly what this file stored): an upload row a filing transaction holds is skipped, never its object
// deleted; an upload whose row was swept while its bytes were still coming leaves no object once it ends; a request
// filed with the token of an account deleted meanwhile is refused (it would escape the deletion's anonymisation); a
// client that stalls mid-file gets 408 after the idle timeout, with nothing stored.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RequestJanitorMessage } from '../../actors/services/request-janitor-actor.js';
import type { RunningNode } from '../../src/node.js';
import { sampleFile } from '../support/attachments.js';
import { insertCustomer, TEST_PIN, type TestUser } from '../support/meter-links.js';
import { multipartBody } from '../support/multipart-body.js';
import { startTestNode } from '../support/node.js';
import { bucketKeys, fieldsOf, fileRequest, insertAgencies, objectExists, storageClient, storageRunning } from '../support/requests.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const BUCKET = `requests-races-${randomBytes(4).toString('hex')}`;
let db: TestDatabase;
let node: RunningNode;
let sql: pg.Pool;
let s3: S3Client;
let customer: TestUser;

const sweep = () => node.runtime.ask<RequestJanitorMessage, 'sweep'>('request-janitor', 'sweep', {}, 10_000);
const count = async (table: 'requests' | 'attachment_uploads') => Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startTestNode({ DATABASE_URL: db.url, S3_BUCKET: BUCKET, REQUEST_JANITOR_INTERVAL_MS: '3600000' });
  await waitFor('ready and storage running', () => node.runtime.readiness('test').ready && storageRunning(node), 30_000);
  sql = new pg.Pool({ connectionString: db.url, max: 3 });
  s3 = storageClient();
  await insertAgencies(sql, ['THIES']);
  customer = await insertCustomer(sql, '+221779960001');
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await sql?.end();
  await db?.drop();
  s3?.destroy();
});

describe('the janitor and a filing in flight', () => {
  it('skips an upload row a filing transaction holds and leaves its object', async () => {
    const key = `requests/race-${randomBytes(8).toString('hex')}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: sampleFile('jpeg', 1_000) }));
    // An upload row older than any sweep age, whose filing transaction has claimed it (its first statement).
    await sql.query(`INSERT INTO attachment_uploads (object_key, started_at) VALUES ($1, now() - interval '1 day')`, [key]);
    const filing = await sql.connect();
    try {
      await filing.query('BEGIN');
      expect((await filing.query(`DELETE FROM attachment_uploads WHERE object_key = $1`, [key])).rowCount).toBe(1);
      let settled: { orphans: number } | Error | undefined;
      sweep().then((r) => (settled = r), (e: Error) => (settled = e));
      // Either the pass ends, or (an unlocked read) it deletes the object and then waits on the row.
      await waitFor('the pass ended or the object went', async () => settled !== undefined || !(await objectExists(s3, BUCKET, key)));
      expect(await objectExists(s3, BUCKET, key)).toBe(true);
      expect(settled).toMatchObject({ orphans: 0 });
      await filing.query('ROLLBACK');
    } finally {
      filing.release();
    }
    // Released (the filing failed): the row is an orphan again, and the next pass takes it.
    expect(await sweep()).toMatchObject({ orphans: 1 });
    expect(await objectExists(s3, BUCKET, key)).toBe(false);
    expect(await count('attachment_uploads')).toBe(0);
  });

  it('deletes the object of an upload whose row was swept while it was still being sent (503, nothing left)', async () => {
    const keysBefore = await bucketKeys(s3, BUCKET);
    const requestsBefore = await count('requests');
    const { body, contentType } = multipartBody([...fieldsOf({ type: 'complaint', agency: 'THIES' }), { name: 'file', filename: 'p.jpg', type: 'image/jpeg', data: sampleFile('jpeg', 300_000) }]);
    const cut = body.length - 100_000;
    const url = new URL(`${node.apiUrl!}/v1/requests`);
    const answer = new Promise<{ status: number; body: Record<string, any> }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${customer.token}`, 'content-type': contentType, 'content-length': body.length } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, any> }));
      });
      req.on('error', reject);
      req.write(body.subarray(0, cut));
      // The rest only once the janitor has taken the row: the upload outlived its sweep age.
      void (async () => {
        await waitFor('the upload row', async () => (await count('attachment_uploads')) === 1);
        await sql.query(`UPDATE attachment_uploads SET started_at = now() - interval '1 day'`);
        expect(await sweep()).toMatchObject({ orphans: 1 });
        req.end(body.subarray(cut));
      })().catch(reject);
    });
    const res = await answer;
    expect(res).toMatchObject({ status: 503, body: { code: 'STORAGE_UNAVAILABLE' } });
    expect(await count('requests')).toBe(requestsBefore);
    expect(await count('attachment_uploads')).toBe(0);
    expect(await bucketKeys(s3, BUCKET)).toEqual(keysBefore);
  });

  it('refuses (401) a request filed with the still-valid token of a deleted account: no row, no object', async () => {
    const gone = await insertCustomer(sql, '+221779960002');
    const res = await fetch(`${node.apiUrl!}/v1/me`, { method: 'DELETE', headers: { authorization: `Bearer ${gone.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ pin: TEST_PIN }) });
    expect(res.status).toBe(204);
    const keysBefore = await bucketKeys(s3, BUCKET);
    const requestsBefore = await count('requests');
    const bare = await fileRequest(node.apiUrl!, gone.token, fieldsOf({ type: 'complaint', agency: 'THIES' }));
    expect(bare).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    const withFile = await fileRequest(node.apiUrl!, gone.token, [...fieldsOf({ type: 'complaint', agency: 'THIES' }), { name: 'file', filename: 'p.jpg', type: 'image/jpeg', data: sampleFile('jpeg', 50_000) }]);
    expect(withFile).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await count('requests')).toBe(requestsBefore);
    expect(await count('attachment_uploads')).toBe(0);
    expect(await bucketKeys(s3, BUCKET)).toEqual(keysBefore);
  });

  it('answers 408 REQUEST_TIMEOUT to a client that stalls mid-file, and stores nothing (no row, no object)', async () => {
    // A node of its own with a short idle timeout (the other cases here pause on purpose mid-upload).
    const impatient = await startTestNode({ DATABASE_URL: db.url, S3_BUCKET: BUCKET, REQUEST_JANITOR_INTERVAL_MS: '3600000', REQUEST_UPLOAD_IDLE_TIMEOUT_MS: '300' });
    try {
      await waitFor('ready and storage running', () => impatient.runtime.readiness('test').ready && storageRunning(impatient), 30_000);
      const keysBefore = await bucketKeys(s3, BUCKET);
      const requestsBefore = await count('requests');
      // Past one storage part (5 MB): the storage upload is a multipart one by the time the client stalls.
      const { body, contentType } = multipartBody([...fieldsOf({ type: 'complaint', agency: 'THIES' }), { name: 'file', filename: 'p.jpg', type: 'image/jpeg', data: sampleFile('jpeg', 7_000_000) }]);
      const res = await new Promise<{ status: number; body: Record<string, any> }>((resolve, reject) => {
        const req = request(new URL(`${impatient.apiUrl!}/v1/requests`), { method: 'POST', headers: { authorization: `Bearer ${customer.token}`, 'content-type': contentType, 'content-length': body.length } }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => {
            resolve({ status: r.statusCode!, body: JSON.parse(text) as Record<string, any> });
            req.destroy();
          });
        });
        req.on('error', reject);
        // Then nothing more: the client stalls, the connection open.
        req.write(body.subarray(0, 6_000_000));
      });
      expect(res).toMatchObject({ status: 408, body: { code: 'REQUEST_TIMEOUT' } });
      await waitFor('no upload row', async () => (await count('attachment_uploads')) === 0);
      expect(await count('requests')).toBe(requestsBefore);
      expect(await bucketKeys(s3, BUCKET)).toEqual(keysBefore);
    } finally {
      await impatient.stop();
    }
  });
});
