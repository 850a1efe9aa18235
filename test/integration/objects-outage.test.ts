// Storage going away and coming back, on a private s3rver of the test's own (the shared one is never stopped):
// an outage is state, lend fails fast with Retry-After, readiness stays up, and the actor recovers by itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectsActor } from '../../actors/resources/objects-actor.js';
import type { ObjectsMessage } from '../../src/adapters/s3/objects-messages.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/adapters/s3/embedded-s3.js';
import { SystemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { digest, sharedS3Settings, startObjectsRuntime } from '../support/objects.js';
import { startFaultServer } from '../support/tcp-faults.js';
import { waitFor } from '../support/wait.js';

describe('objects actor when storage stops and starts again', () => {
  let dir: string;
  let s3: EmbeddedS3 | undefined;
  let runtime: Runtime;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samaconso-objects-outage-'));
    s3 = await startEmbeddedS3({ directory: dir });
    runtime = new Runtime({ clock: new SystemClock(), log: silentLogger() });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          // Stands for the API's required parts: storage is optional and must never make the process unready.
          actor({ name: 'api', readiness: 'required', behaviour: () => ({ init: () => ({}), handle: (s: object) => s }) }),
          actor({
            name: 'objects',
            readiness: 'optional',
            behaviour: objectsActor({
              storage: {
                kind: 'external',
                settings: sharedS3Settings({ endpoint: s3.endpoint, publicEndpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, bucket: 'outage-bucket', requestTimeoutMs: 2_000 }),
              },
              createBucket: true,
              // Longer than the test: only a failing store call can make the actor notice the outage quickly.
              probeIntervalMs: 600_000,
              backoff: { minMs: 100, maxMs: 400 },
            }),
          }),
        ],
      }),
    );
  });
  afterAll(async () => {
    await runtime?.stop();
    await s3?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const lend = () => runtime.ask<ObjectsMessage, 'lend'>('objects', 'lend', {}, 2_000);
  const part = (name: string) => runtime.readiness('test').parts.find((p) => p.name === name);
  const objectsNode = () => runtime.tree().children!.find((c) => c.name === 'objects')!.stats;

  it('goes backing-off when a call meets the outage, fails lend with STORAGE_UNAVAILABLE and Retry-After, stays ready, and recovers', async () => {
    await waitFor('objects running (bucket created)', () => part('objects')?.state === 'running');
    const store = await lend();
    await store.put('before', Readable.from([Buffer.from('before the outage')]), { contentType: 'text/plain' });

    const { port, accessKeyId, secretAccessKey } = s3!;
    await s3!.close();
    s3 = undefined;
    // The store in hand fails as an outage (connection refused), which tells the actor to probe at once.
    await expect(store.head('before')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await waitFor('objects backing off', () => part('objects')?.state === 'backing-off');
    expect(objectsNode().detail).toMatch(/^storage unreachable: .*ECONNREFUSED.*; next probe in \d+ ms$/);

    const refused = await lend().then(
      () => undefined,
      (e: unknown) => e as { code: string; retryAfterMs: number },
    );
    expect(refused).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(refused!.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    // Optional: shown down, the process stays ready.
    const readiness = runtime.readiness('test');
    expect(readiness.ready).toBe(true);
    expect(readiness.parts.find((p) => p.name === 'objects')?.state).toBe('backing-off');
    expect(part('api')?.state).toBe('running');

    s3 = await startEmbeddedS3({ directory: dir, port, accessKeyId, secretAccessKey });
    await waitFor('objects running again', () => part('objects')?.state === 'running');
    const again = await lend();
    await again.put('after', Readable.from([Buffer.from('after the outage')]), { contentType: 'text/plain' });
    expect(await digest(await again.get('before'))).toEqual(await digest(Readable.from([Buffer.from('before the outage')])));
    // An outage is state, not a crash: no restart was spent on it.
    expect(objectsNode()).toMatchObject({ crashes: 0, restarts: 0 });
  });
});

describe('objects actor when storage accepts connections and never answers', () => {
  it('fails calls with STORAGE_UNAVAILABLE past the request timeout, and backs off with the timeout as the reason', async () => {
    const silent = await startFaultServer('hang');
    const endpoint = `http://127.0.0.1:${silent.port}`;
    const objects = await startObjectsRuntime({
      storage: { kind: 'external', settings: sharedS3Settings({ endpoint, publicEndpoint: endpoint, requestTimeoutMs: 300, connectTimeoutMs: 300 }) },
      createBucket: true,
      backoff: { minMs: 100, maxMs: 400 },
    });
    try {
      await waitFor('objects backing off', () => objects.node().state === 'backing-off' && /timed out|timeout/i.test(objects.node().detail ?? ''));
      expect(objects.node().detail).toMatch(/^storage unreachable: /);
      await expect(objects.lend()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
      expect(objects.node()).toMatchObject({ crashes: 0, restarts: 0 });
    } finally {
      await objects.stop();
      await silent.close();
    }
  });
});
