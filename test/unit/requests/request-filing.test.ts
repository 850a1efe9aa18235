// Filing with an attachment (src/requests/request-filing.ts) over a recording database and an in-memory ObjectStore
// (a unit test's double; the integration tests use the objects actor and s3rver): what is written, in which order,
// and what is left when storage, the body or the insert fails.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError, type ObjectStore } from '../../../src/adapters/s3/objects-messages.js';
import { ManualClock } from '../../../src/clock.js';
import type { Caller } from '../../../src/contracts/caller.js';
import { RequestsService } from '../../../src/requests/index.js';
import { sampleFile } from '../../support/attachments.js';

const AUTHOR: Caller = { userId: '00000000-0000-4000-8000-0000000000a1', role: 'customer', agency: null };
const FIELDS = { type: 'complaint', comment: 'No power', agency: 'THIES' } as const;

interface World {
  readonly queries: string[];
  readonly objects: Map<string, Buffer>;
  readonly deleted: string[];
  readonly uploads: Set<string>;
  readonly service: RequestsService;
}

function world(options: { put?: 'fail'; storage?: 'down'; typeWithdrawnAtInsert?: boolean; maxBytes?: number } = {}): World {
  const queries: string[] = [];
  const objects = new Map<string, Buffer>();
  const deleted: string[] = [];
  const uploads = new Set<string>();
  const query = async (text: string, values: unknown[] = []) => {
    const q = text.replace(/\s+/g, ' ').trim();
    queries.push(q.slice(0, 40));
    if (q.startsWith('SELECT needs_meter')) return { rows: [{ needs_meter: false }], rowCount: 1 };
    if (q.startsWith('SELECT 1 FROM agencies')) return { rows: [{}], rowCount: 1 };
    if (q.startsWith('SELECT 1 FROM users')) return { rows: [{}], rowCount: 1 };
    if (q.startsWith('INSERT INTO attachment_uploads')) {
      uploads.add(values[0] as string);
      return { rows: [], rowCount: 1 };
    }
    if (q.startsWith('DELETE FROM attachment_uploads')) {
      const had = uploads.delete(values[0] as string);
      return { rows: [], rowCount: had ? 1 : 0 };
    }
    if (q.startsWith('WITH inserted')) {
      if (options.typeWithdrawnAtInsert) return { rows: [], rowCount: 0 };
      const [id, author, type, linkId, meter, kind, agency, comment, key, ctype, bytes, sha, at] = values;
      const row = {
        id, author_id: author, type, link_id: linkId, meter, meter_kind: kind, agency_code: agency, comment, status: 'open', reply: null,
        attachment_key: key, attachment_type: ctype, attachment_bytes: bytes === null ? null : String(bytes), attachment_sha256: sha,
        attachment_deleted_at: null, created_at: at, updated_at: at, anonymised_at: null, at_micros: '0',
      };
      return { rows: [row], rowCount: 1 };
    }
    return { rows: [], rowCount: 0 };
  };
  // A transaction's failure rolls its upload row deletion back, as PostgreSQL does.
  const transaction = async <T>(fn: (c: never) => Promise<T>): Promise<T> => {
    const before = new Set(uploads);
    try {
      return await fn({ query } as never);
    } catch (e) {
      uploads.clear();
      for (const k of before) uploads.add(k);
      throw e;
    }
  };
  const handle = { query, transaction };
  const store: ObjectStore = {
    async put(key, body) {
      if (options.put === 'fail') {
        body.resume();
        throw new StorageUnavailableError('storage failed mid-upload');
      }
      const bytes = await buffer(body);
      objects.set(key, bytes);
      return { bytes: bytes.length };
    },
    head: async (key) => (objects.has(key) ? { bytes: objects.get(key)!.length, contentType: undefined } : undefined),
    get: async (key) => Readable.from([objects.get(key)!]),
    async delete(key) {
      deleted.push(key);
      objects.delete(key);
    },
    presignDownload: async (key) => `http://storage.example/${key}`,
  };
  const service = new RequestsService({
    db: async () => handle as never,
    objects: async () => {
      if (options.storage === 'down') throw new StorageUnavailableError('down');
      return store;
    },
    clock: new ManualClock(),
    maxBytes: options.maxBytes ?? 100_000,
    urlTtlS: 300,
  });
  return { queries, objects, deleted, uploads, service };
}

/** The file in 1,000-byte chunks, as a socket delivers it (so the limit is met after the bytes read to sniff). */
function upload(bytes: Buffer) {
  const chunks = Array.from({ length: Math.ceil(bytes.length / 1_000) }, (_, i) => bytes.subarray(i * 1_000, (i + 1) * 1_000));
  return { stream: Readable.from(chunks, { objectMode: false }), filename: 'photo.jpg' };
}

describe('filing with an attachment', () => {
  it('stores the exact bytes under an unguessable key, commits the upload row first and deletes it before the insert', async () => {
    const w = world();
    const file = sampleFile('jpeg', 50_000);
    const filed = await w.service.file(AUTHOR, FIELDS, upload(file));
    expect(filed.attachment).toEqual({ contentType: 'image/jpeg', bytes: 50_000, sha256: createHash('sha256').update(file).digest('hex') });
    const [key, stored] = [...w.objects][0]!;
    expect(stored.equals(file)).toBe(true);
    expect(key).toMatch(/^requests\/[A-Za-z0-9_-]{32}$/);
    expect(key).not.toContain(AUTHOR.userId);
    expect(w.uploads.size).toBe(0);
    const order = w.queries.filter((q) => /attachment_uploads|WITH inserted/.test(q)).map((q) => q.split(' ').slice(0, 3).join(' '));
    // The upload row's deletion first in the transaction: it waits for a janitor holding the row (request-janitor.ts).
    expect(order).toEqual(['INSERT INTO attachment_uploads', 'DELETE FROM attachment_uploads', 'WITH inserted AS']);
  });

  it('writes nothing when storage is down (503) and reads none of the file', async () => {
    const w = world({ storage: 'down' });
    const up = upload(sampleFile('jpeg', 10_000));
    await expect(w.service.file(AUTHOR, FIELDS, up)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(w.queries.some((q) => /attachment_uploads|WITH inserted/.test(q))).toBe(false);
    expect(up.stream.readableDidRead).toBe(false);
  });

  it('refuses an executable named photo.jpg (415) before writing anything', async () => {
    const w = world();
    await expect(w.service.file(AUTHOR, FIELDS, upload(sampleFile('elf', 10_000)))).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(w.queries.some((q) => /attachment_uploads|WITH inserted/.test(q))).toBe(false);
    expect(w.objects.size).toBe(0);
  });

  it('refuses a file one byte over the limit (413), deletes the object and its upload row', async () => {
    const w = world({ maxBytes: 20_000 });
    await expect(w.service.file(AUTHOR, FIELDS, upload(sampleFile('pdf', 20_001)))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(w.deleted).toHaveLength(1);
    expect(w.uploads.size).toBe(0);
    expect(w.objects.size).toBe(0);
    expect(w.queries.some((q) => q.startsWith('WITH inserted'))).toBe(false);
  });

  it('answers 503 when storage fails mid-upload, deleting what may be stored and the upload row', async () => {
    const w = world({ put: 'fail' });
    await expect(w.service.file(AUTHOR, FIELDS, upload(sampleFile('png', 30_000)))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(w.deleted).toHaveLength(1);
    expect(w.uploads.size).toBe(0);
    expect(w.queries.some((q) => q.startsWith('WITH inserted'))).toBe(false);
  });

  it('leaves the object and its upload row to the janitor when the insert fails after the upload', async () => {
    const w = world({ typeWithdrawnAtInsert: true });
    await expect(w.service.file(AUTHOR, FIELDS, upload(sampleFile('jpeg', 10_000)))).rejects.toMatchObject({ code: 'REQUEST_TYPE_UNKNOWN' });
    expect(w.objects.size).toBe(1);
    expect([...w.uploads]).toEqual([...w.objects.keys()]);
  });
});
