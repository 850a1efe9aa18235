// The FCM pool (piscina threads, each with its own firebase-admin sender) against the fake FCM through the CONNECT
// proxy, with the test CA as extra CA and a service-account file (its OAuth call goes through the proxy too).
// What reached FCM is counted by the fake, not by the pool.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { getApps } from 'firebase-admin/app';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFcmMessage, type FcmMessage, type FcmNotification } from '../../src/adapters/fcm/fcm-message.js';
import { createFcmPool, type FcmPool, type FcmPoolOptions, type PoolSenderOptions } from '../../src/adapters/fcm/fcm-pool.js';
import { startFcmWorld, type FcmWorld } from '../support/dispatch.js';

const JOB = '4f1d7c2a-9b3e-4e5f-8a6b-1c2d3e4f5a6b';
const lowAdvice: FcmNotification = { jobId: JOB, queue: 'low_priority', type: { code: 'advice', ttlSeconds: 86_400, collapseKey: null }, title: 'Conseil', body: 'Éteignez les lumières' };

function messages(prefix: string, count: number): FcmMessage[] {
  return Array.from({ length: count }, (_, i) => buildFcmMessage(`${prefix}-${i}`, lowAdvice));
}

let world: FcmWorld;
const pools: FcmPool[] = [];

function senderOptions(w: { projectId: string; credentialFile: string; proxyUrl: string; caFile: string }): PoolSenderOptions {
  return { projectId: w.projectId, credential: w.credentialFile, transport: 'http1', proxyUrl: w.proxyUrl, extraCaFile: w.caFile };
}

function pool(threads: number, maxInFlight: number, urgentThreads = 0, resourceLimits?: FcmPoolOptions['resourceLimits']): FcmPool {
  const p = createFcmPool({
    threads,
    urgentThreads,
    maxInFlight,
    sender: senderOptions({ projectId: world.env.FCM_PROJECT_ID!, credentialFile: world.env.FCM_CREDENTIALS_FILE!, proxyUrl: world.proxy.url, caFile: world.fake.caFile }),
    ...(resourceLimits ? { resourceLimits } : {}),
  });
  pools.push(p);
  return p;
}

// Piscina's Worker objects, caught as piscina hands each its init message (the only handle on a thread that the
// product does not expose): used to kill a thread mid-batch, as an out-of-memory or a native crash would.
const piscinaWorkers: Worker[] = [];
const originalPostMessage = Worker.prototype.postMessage;

beforeAll(async () => {
  world = await startFcmWorld();
  Worker.prototype.postMessage = function (this: Worker, value: unknown, transferList?: readonly unknown[]) {
    if (value && typeof value === 'object' && 'filename' in value && 'port' in value) piscinaWorkers.push(this);
    return originalPostMessage.call(this, value, transferList as never);
  } as typeof Worker.prototype.postMessage;
});

afterAll(async () => {
  Worker.prototype.postMessage = originalPostMessage;
  await world?.close();
});

beforeEach(() => {
  world.fake.reset();
  world.fake.setOutcomes(undefined);
  world.fake.setLatency(0);
  world.proxy.reset();
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  piscinaWorkers.length = 0;
});

describe('FCM pool', () => {
  it('sends a batch of 500 through the proxy; outcomes in message order, per-token errors classified', async () => {
    const batch = messages('tok500', 500);
    const script: Record<string, 'UNREGISTERED' | 'UNAVAILABLE'> = {};
    for (let i = 0; i < 500; i++) {
      if (i % 50 === 7) script[`tok500-${i}`] = 'UNREGISTERED';
      else if (i % 50 === 23) script[`tok500-${i}`] = 'UNAVAILABLE';
    }
    world.fake.setOutcomes(script);
    // answers in scrambled order, so order comes from the pool, not from the wire
    world.fake.setLatency((m) => (Number(String(m.token).split('-')[1]) * 7919) % 23);
    const p = pool(2, 4);

    const outcomes = await p.sendBatch(batch);

    expect(outcomes).toHaveLength(500);
    outcomes.forEach((o, i) => {
      const token = `tok500-${i}`;
      if (script[token] === 'UNREGISTERED') expect({ token, ...o }).toMatchObject({ token, kind: 'remove-token', code: 'UNREGISTERED' });
      else if (script[token] === 'UNAVAILABLE') expect({ token, ...o }).toMatchObject({ token, kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 0 });
      else expect({ token, ...o }).toMatchObject({ token, kind: 'sent', messageId: expect.stringMatching(/^projects\/.+\/messages\/\d+$/) });
    });
    expect(world.fake.deliveredTokens().size).toBe(480);
    expect(world.fake.stats()).toMatchObject({ requests: 500, delivered: 480, failed: 20, byOutcome: { ok: 480, UNREGISTERED: 10, UNAVAILABLE: 10 } });
    for (const m of batch) expect(world.fake.attemptsFor(m.token)).toBe(1); // no hidden retry of the 503s
    // through the proxy, to the host firebase-admin asks for (sends and the service account's token call)
    expect(world.proxy.authorities()).toContain('fcm.googleapis.com:443');
    expect(world.proxy.authorities()).toContain('oauth2.googleapis.com:443');
    expect(world.fake.stats().oauthTokens).toBeGreaterThanOrEqual(1);
    expect(p.stats()).toMatchObject({ threads: 2, inFlight: 0, completed: 1, failed: 0 });
  });

  it('runs in worker threads, several batches at once', async () => {
    // No firebase-admin app in this (main) thread: the senders live in the pool's threads.
    const p = pool(2, 4);
    await Promise.all([0, 1, 2, 3].map((b) => p.sendBatch(messages(`warm${b}`, 1)))); // threads loaded, tokens fetched
    // each thread made its own firebase-admin app, hence its own OAuth token
    expect(world.fake.stats().oauthTokens).toBeGreaterThanOrEqual(2);
    world.fake.reset();
    // which batches have a request waiting at the fake (arrived, not answered yet), at most at once
    const open = new Map<string, number>();
    let mostBatchesAtOnce = 0;
    world.fake.setLatency((m) => {
      const b = String(m.token).split('-')[0]!;
      open.set(b, (open.get(b) ?? 0) + 1);
      mostBatchesAtOnce = Math.max(mostBatchesAtOnce, open.size);
      setTimeout(() => (open.get(b) === 1 ? open.delete(b) : open.set(b, open.get(b)! - 1)), 200);
      return 200;
    });
    const batches = await Promise.all([0, 1, 2, 3].map((b) => p.sendBatch(messages(`conc${b}`, 10))));
    for (const outcomes of batches) expect(outcomes.every((o) => o.kind === 'sent')).toBe(true);
    expect(world.fake.stats().delivered).toBe(40);
    expect(mostBatchesAtOnce).toBeGreaterThanOrEqual(2);
    expect(p.stats()).toMatchObject({ threads: 2, completed: 8, inFlight: 0 });
    expect(getApps().filter((a) => a.name.startsWith('fcm-pool-'))).toEqual([]);
    expect(piscinaWorkers.length).toBe(2);
  });

  it('sends urgent batches on threads of their own when asked to', async () => {
    // Each thread's sender fetches its own OAuth token: the fake's count tells how many threads sent.
    const tokensBefore = world.fake.stats().oauthTokens;
    const split = pool(1, 4, 1);
    expect(split.stats().threads).toBe(2);
    expect((await split.sendBatch(messages('shared', 5))).every((o) => o.kind === 'sent')).toBe(true);
    expect((await split.sendBatch(messages('shared2', 5))).every((o) => o.kind === 'sent')).toBe(true);
    expect(world.fake.stats().oauthTokens - tokensBefore).toBe(1);
    expect((await split.sendBatch(messages('urgent', 3), true)).every((o) => o.kind === 'sent')).toBe(true);
    expect(world.fake.stats().oauthTokens - tokensBefore).toBe(2);

    // Without urgent threads, an urgent batch goes to the one shared thread: no new token.
    const shared = pool(1, 4);
    await shared.sendBatch(messages('one', 1));
    const afterOne = world.fake.stats().oauthTokens;
    await shared.sendBatch(messages('urgent-shared', 1), true);
    expect(world.fake.stats().oauthTokens).toBe(afterOne);
  });

  it('sends while the main thread is blocked (the fake and proxy run in another thread)', async () => {
    const remote = await startRemoteWorld();
    try {
      const p = createFcmPool({ threads: 2, maxInFlight: 4, sender: senderOptions(remote) });
      pools.push(p);
      // warm up: threads loaded, senders made, OAuth tokens fetched
      await Promise.all([0, 1, 2, 3].map((b) => p.sendBatch(messages(`warm${b}`, 2))));
      await remote.times();

      const pending = Promise.all([p.sendBatch(messages('blocked-a', 25)), p.sendBatch(messages('blocked-b', 25))]);
      const blockStart = Date.now();
      while (Date.now() - blockStart < 1_500) {
        // busy: no event loop turn in the main thread, so nothing here can send or answer
      }
      const blockEnd = Date.now();
      const outcomes = await pending;
      expect(outcomes.flat().map((o) => o.kind)).toEqual(Array(50).fill('sent'));
      const { times, stats } = await remote.times();
      expect(times).toHaveLength(50);
      // every message reached the fake while the main thread was busy
      for (const t of times) {
        expect(t).toBeGreaterThanOrEqual(blockStart);
        expect(t).toBeLessThanOrEqual(blockEnd);
      }
      expect(stats.delivered).toBe(58);
    } finally {
      await remote.close();
    }
  });

  // threads 2: piscina's least-busy balancing puts the two batches on different threads
  for (const threads of [1, 2]) {
    it(`close() waits for the batches in flight, then ends the threads; sendBatch afterwards rejects (${threads} thread(s))`, async () => {
      const p = pool(threads, 4);
      await Promise.all([0, 1].map((b) => p.sendBatch(messages(`warm${b}`, 1)))); // threads loaded
      world.fake.reset();
      world.fake.setLatency(400);
      const settled = [p.sendBatch(messages('close-a', 5)), p.sendBatch(messages('close-b', 5))].map((b) =>
        b.then(
          (o) => o.map((x) => x.kind).join(','),
          (e: unknown) => `rejected: ${String(e)}`,
        ),
      );
      await new Promise((r) => setTimeout(r, 100)); // both batches in their threads, waiting for FCM
      expect(p.stats().inFlight).toBe(2);
      let closedAt = 0;
      const closing = p.close().then(() => (closedAt = performance.now()));
      await expect(p.sendBatch(messages('after-close', 1))).rejects.toThrow(/closed/);
      const results = await Promise.all(settled);
      const doneAt = performance.now();
      await closing;
      expect(results).toEqual(['sent,sent,sent,sent,sent', 'sent,sent,sent,sent,sent']);
      expect(closedAt).toBeGreaterThanOrEqual(doneAt - 1);
      expect(world.fake.stats().delivered).toBe(10);
      expect(world.fake.attemptsFor('after-close-0')).toBe(0);
      expect(p.stats()).toMatchObject({ inFlight: 0, failed: 0 });
      await expect(p.sendBatch(messages('after-close', 1))).rejects.toThrow(/closed/);
    });
  }

  it('every thread, urgent ones included, runs under the V8 heap limits the pool was given; without them, V8\'s default', async () => {
    // Worker.resourceLimits is what the thread's isolate was created with (V8's own figure where none was given).
    const limited = pool(1, 4, 1, { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 });
    await Promise.all([limited.sendBatch(messages('limits-normal', 3)), limited.sendBatch(messages('limits-urgent', 3), true)]);
    expect(world.fake.stats().delivered).toBe(6);
    expect(piscinaWorkers).toHaveLength(2);
    for (const w of piscinaWorkers) expect(w.resourceLimits).toMatchObject({ maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 });
    piscinaWorkers.length = 0;
    const unlimited = pool(1, 4);
    await unlimited.sendBatch(messages('limits-default', 1));
    expect(piscinaWorkers).toHaveLength(1);
    expect(piscinaWorkers[0]!.resourceLimits?.maxOldGenerationSizeMb ?? 0).toBeGreaterThan(96);
    expect(piscinaWorkers[0]!.resourceLimits?.maxYoungGenerationSizeMb ?? 0).toBeGreaterThan(8);
  });

  it('a thread out of memory with no batch of its own is reported to onThreadError instead of taking the process down', async () => {
    // A heap too small to load the sender: the thread dies of a real ERR_WORKER_OUT_OF_MEMORY while starting, before
    // any batch. piscina emits that as an 'error' event of the pool; unheard, it would be an uncaught exception.
    const died = new Promise<unknown>((resolve) => {
      const p = createFcmPool({
        threads: 1,
        maxInFlight: 2,
        sender: senderOptions({ projectId: world.env.FCM_PROJECT_ID!, credentialFile: world.env.FCM_CREDENTIALS_FILE!, proxyUrl: world.proxy.url, caFile: world.fake.caFile }),
        resourceLimits: { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 },
        onThreadError: resolve,
      });
      pools.push(p);
    });
    const error = await Promise.race([died, new Promise((r) => setTimeout(() => r('no thread error within 20 s'), 20_000))]);
    expect(error).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
  });

  it('a thread killed mid-batch fails only its own batch; piscina starts another thread and later batches go', async () => {
    const p = pool(2, 4);
    // warm both threads up (so they are ready and piscina replaces a dead one)
    await Promise.all([0, 1, 2, 3].map((b) => p.sendBatch(messages(`warm${b}`, 1))));
    expect(piscinaWorkers).toHaveLength(2);
    world.fake.reset();
    world.fake.setLatency(500);
    const a = p.sendBatch(messages('kill-a', 5)).then((o) => ({ ok: true as const, o }), (e: unknown) => ({ ok: false as const, e }));
    const b = p.sendBatch(messages('kill-b', 5)).then((o) => ({ ok: true as const, o }), (e: unknown) => ({ ok: false as const, e }));
    await new Promise((r) => setTimeout(r, 150)); // both batches in their threads, waiting for FCM
    expect(p.stats().inFlight).toBe(2);
    await piscinaWorkers[0]!.terminate();

    const results = await Promise.all([a, b]);
    const failed = results.filter((r) => !r.ok);
    const ok = results.filter((r) => r.ok);
    // piscina's least-busy balancing puts one batch on each thread: the killed one fails, the other is untouched
    expect(failed).toHaveLength(1);
    expect(String((failed[0] as { e: unknown }).e)).toMatch(/worker exited/);
    expect(ok).toHaveLength(1);
    expect((ok[0] as { o: { kind: string }[] }).o.map((x) => x.kind)).toEqual(Array(5).fill('sent'));
    expect(p.stats()).toMatchObject({ inFlight: 0, failed: 1 });

    // a replacement thread came up; the pool keeps working at full size
    world.fake.setLatency(0);
    const after = await Promise.all([0, 1, 2, 3].map((i) => p.sendBatch(messages(`after-kill${i}`, 3))));
    for (const outcomes of after) expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent']);
    expect(p.stats()).toMatchObject({ threads: 2, inFlight: 0, failed: 1 });
    expect(piscinaWorkers).toHaveLength(3);
  });
});

interface RemoteWorld {
  projectId: string;
  credentialFile: string;
  proxyUrl: string;
  caFile: string;
  /** Wall-clock receipt time (Date.now()) of every send since the last call, and the fake's stats. */
  times(): Promise<{ times: number[]; stats: { delivered: number } }>;
  close(): Promise<void>;
}

/** The fake FCM and the CONNECT proxy in a worker thread of their own, so they keep answering while the main thread is blocked. */
async function startRemoteWorld(): Promise<RemoteWorld> {
  const require = createRequire(import.meta.url);
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      (await import(workerData.tsxApi)).register();
      const { startFakeFcm } = await import(workerData.fakeUrl);
      const { startConnectProxy } = await import(workerData.proxyUrl);
      const times = [];
      const fake = await startFakeFcm({ latencyMs: () => { times.push(Date.now()); return 0; } });
      const proxy = await startConnectProxy({ target: { host: fake.host, port: fake.port } });
      parentPort.on('message', async (m) => {
        if (m === 'times') parentPort.postMessage({ times: times.splice(0), stats: fake.stats() });
        if (m === 'close') { await proxy.close(); await fake.close(); parentPort.postMessage('closed'); }
      });
      parentPort.postMessage({ proxyUrl: proxy.url, caFile: fake.caFile });
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: {
      tsxApi: pathToFileURL(join(dirname(require.resolve('tsx/esm/api')), 'index.mjs')).href,
      fakeUrl: pathToFileURL(require.resolve('../support/fcm/fake-fcm-server.ts')).href,
      proxyUrl: pathToFileURL(require.resolve('../support/fcm/connect-proxy.ts')).href,
    },
  });
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      worker.once('error', onError);
      worker.once('message', (m: T) => {
        worker.off('error', onError);
        resolve(m);
      });
    });
  const ready = await next<{ proxyUrl: string; caFile: string }>();
  return {
    projectId: world.env.FCM_PROJECT_ID!,
    credentialFile: world.env.FCM_CREDENTIALS_FILE!,
    proxyUrl: ready.proxyUrl,
    caFile: ready.caFile,
    times: () => {
      const answer = next<{ times: number[]; stats: { delivered: number } }>();
      worker.postMessage('times');
      return answer;
    },
    close: async () => {
      const closed = next<string>();
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
