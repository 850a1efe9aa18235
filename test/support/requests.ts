// The requests' tests: agencies inserted straight, POST /v1/requests as a multipart body sent with fetch, and checks
// on s3rver itself (list, hash, exists).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Queryable } from '../../src/adapters/postgres/postgres-messages.js';
import type { RunningNode } from '../../src/node.js';
import { actorNode } from './node.js';
import { servicesEnv } from './services.js';
import { multipartBody, type Part } from './multipart-body.js';

export async function insertAgencies(sql: Queryable, codes: readonly string[], active = true): Promise<void> {
  for (const code of codes) {
    await sql.query(`INSERT INTO agencies (code, name, active) VALUES ($1, $1, $2) ON CONFLICT (code) DO UPDATE SET active = $2`, [code, active]);
  }
}

export interface FiledAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, any>;
}

/** POST /v1/requests with `parts` in their order (the file, if any, where it is in the list). */
export async function fileRequest(apiUrl: string, token: string, parts: readonly Part[]): Promise<FiledAnswer> {
  const { body, contentType } = multipartBody(parts);
  const res = await fetch(`${apiUrl}/v1/requests`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

/** The text parts of a request: its type and comment, and a link or an agency. */
export function fieldsOf(f: { type: string; comment?: string; linkId?: string; agency?: string }): Part[] {
  const parts: Part[] = [{ name: 'type', value: f.type }, { name: 'comment', value: f.comment ?? 'The meter shows an error.' }];
  if (f.linkId !== undefined) parts.push({ name: 'linkId', value: f.linkId });
  if (f.agency !== undefined) parts.push({ name: 'agency', value: f.agency });
  return parts;
}

/**
 * A client of the shared s3rver of ops/services.sh (or of `target`, a test's own s3rver), for checks on storage itself
 * (never the product's counters).
 */
export function storageClient(target?: { endpoint: string; accessKeyId: string; secretAccessKey: string }): S3Client {
  const env = target ? undefined : servicesEnv();
  return new S3Client({
    endpoint: target?.endpoint ?? env!.TEST_S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: target ? { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey } : { accessKeyId: env!.TEST_S3_ACCESS_KEY, secretAccessKey: env!.TEST_S3_SECRET_KEY },
    // FACTS.md: with the default checksum mode s3rver stores a stream as aws-chunked bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every key in the bucket, as s3rver lists them. */
export async function bucketKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** The SHA-256 (hex) of s3rver's copy of the object, and its type. */
export async function storedObject(s3: S3Client, bucket: string, key: string): Promise<{ sha256: string; contentType: string | undefined }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of res.Body as Readable) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), contentType: res.ContentType };
}

/** Whether s3rver holds the object. */
export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

/** Whether the node's objects actor is running (storage answered its probe): optional parts show ready before that. */
export function storageRunning(node: RunningNode): boolean {
  return actorNode(node, 'objects')?.stats.state === 'running';
}
