// Test kit for object storage: the objects actor in a runtime of its own, and streams made on the fly.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { objectsActor, type ObjectsOptions } from '../../actors/resources/objects-actor.js';
import type { ObjectStore, ObjectsMessage } from '../../src/adapters/s3/objects-messages.js';
import type { S3Settings } from '../../src/adapters/s3/s3-object-store.js';
import { SystemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { DEFAULT_SERVICES_DIR, servicesEnv } from './services.js';

const MIB = 1024 * 1024;

/** The shared s3rver of ops/services.sh (never stopped by a test). */
export function sharedS3Settings(overrides: Partial<S3Settings> = {}): S3Settings {
  const env = servicesEnv();
  return {
    endpoint: env.TEST_S3_ENDPOINT,
    publicEndpoint: env.TEST_S3_ENDPOINT,
    region: 'us-east-1',
    bucket: env.TEST_S3_BUCKET,
    accessKeyId: env.TEST_S3_ACCESS_KEY,
    secretAccessKey: env.TEST_S3_SECRET_KEY,
    partSizeBytes: 5 * MIB,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2_000,
    ...overrides,
  };
}

/**
 * The multipart uploads the shared s3rver still holds for `key`. s3rver 3.7.1 has no ListMultipartUploads (501), so
 * the witness is its own folder: one `<bucket>/._S3rver_uploads/<uploadId>/` per upload, naming its key in `key`.
 */
export async function pendingUploads(key: string): Promise<string[]> {
  const env = servicesEnv();
  const root = join(env.TEST_SERVICES_DIR ?? DEFAULT_SERVICES_DIR, 's3', 'data', env.TEST_S3_BUCKET, '._S3rver_uploads');
  const ids = await readdir(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  const keys = await Promise.all(ids.map(async (id) => ({ id, key: await readFile(join(root, id, 'key'), 'utf8').catch(() => undefined) })));
  return keys.filter((u) => u.key === key).map((u) => u.id);
}

export interface ObjectsRuntime {
  readonly runtime: Runtime;
  lend(deadlineMs?: number): Promise<ObjectStore>;
  /** The actor's state and detail as the tree shows them. */
  node(): { state: string; detail: string | undefined; crashes: number; restarts: number };
  stop(): Promise<void>;
}

/** The objects actor alone under a root, optional in readiness like in the product's tree. */
export async function startObjectsRuntime(options: ObjectsOptions): Promise<ObjectsRuntime> {
  const runtime = new Runtime({ clock: new SystemClock(), log: silentLogger() });
  await runtime.start(supervisor({ name: 'root', children: [actor({ name: 'objects', readiness: 'optional', behaviour: objectsActor(options) })] }));
  return {
    runtime,
    lend: (deadlineMs = 5_000) => runtime.ask<ObjectsMessage, 'lend'>('objects', 'lend', {}, deadlineMs),
    node: () => {
      const n = runtime.tree().children!.find((c) => c.name === 'objects')!;
      return { state: n.stats.state, detail: n.stats.detail, crashes: n.stats.crashes, restarts: n.stats.restarts };
    },
    stop: () => runtime.stop(),
  };
}

/**
 * `bytes` of deterministic pseudo-random data in chunks of `chunkBytes`, made as they are read (never held whole),
 * with the SHA-256 of what was produced available at the end.
 */
export function generatedStream(bytes: number, chunkBytes = 64 * 1024): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let produced = 0;
  let seed = 0x9e3779b9;
  const stream = new Readable({
    read() {
      if (produced >= bytes) {
        this.push(null);
        return;
      }
      const n = Math.min(chunkBytes, bytes - produced);
      const chunk = Buffer.allocUnsafe(Math.ceil(n / 4) * 4);
      for (let i = 0; i < n; i += 4) {
        // xorshift32: cheap, and not compressible or repetitive like a constant fill.
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        chunk.writeUInt32LE(seed >>> 0, i);
      }
      hash.update(chunk.subarray(0, n));
      produced += n;
      this.push(chunk.subarray(0, n));
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** SHA-256 and length of a stream, read to its end. */
export async function digest(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
