// Embedded mode (no S3_ENDPOINT): the node runs s3rver in process on a folder beside the embedded database's, and
// stores and presigns through it with the same client code as production.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectsMessage } from '../../src/adapters/s3/objects-messages.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { digest } from '../support/objects.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

describe('objects in embedded mode', () => {
  let dir: string;
  let db: TestDatabase;
  let node: RunningNode;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samaconso-objects-embedded-'));
    db = await createTestDatabase();
    // The database is the test's (a PGlite would only slow this down); storage is left to the embedded default.
    node = await startTestNode({ DATABASE_URL: db.url, EMBEDDED_DATA_DIR: join(dir, 'pglite'), S3_ENDPOINT: undefined, S3_BUCKET: 'embedded-bucket' });
    await waitFor('objects running', () => node.runtime.readiness('test').parts.find((p) => p.name === 'objects')?.state === 'running');
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates its bucket in .data/s3 beside the database folder, stores, and presigns a URL on its own loopback address', async () => {
    const store = await node.runtime.ask<ObjectsMessage, 'lend'>('objects', 'lend', {}, 5_000);
    const body = Buffer.from('\x89PNG\r\n\x1a\nembedded');
    expect(await store.put('k/one', Readable.from([body]), { contentType: 'image/png' })).toEqual({ bytes: body.length });
    expect(readdirSync(join(dir, 's3'))).toContain('embedded-bucket');

    const url = new URL(await store.presignDownload('k/one', { expiresInS: 60, filename: 'photo.png' }));
    expect(url.hostname).toBe('127.0.0.1');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="photo.png"; filename*=UTF-8''photo.png`);
    expect(await digest(Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream))).toEqual(await digest(Readable.from([body])));
  });

  it('stops its s3rver with the node', async () => {
    const store = await node.runtime.ask<ObjectsMessage, 'lend'>('objects', 'lend', {}, 5_000);
    const url = await store.presignDownload('k/one', { expiresInS: 60, filename: 'photo.png' });
    await node.stop();
    await expect(fetch(url)).rejects.toThrow();
    // The objects stay on disk for the next start.
    expect(existsSync(join(dir, 's3', 'embedded-bucket'))).toBe(true);
  });
});
