// The push pipeline (scheduler driven for real) on a ManualClock with a scripted sender: every send is a promise the
// test settles by hand, so order, concurrency, 429 pauses, backpressure, failures and close are all deterministic.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PRIORITY_QUEUES, type PriorityQueue } from '../../../src/domain/priority.js';
import { ManualClock } from '../../../src/clock.js';
import { PipelineClosedError, PushPipeline } from '../../../src/dispatch/push-pipeline.js';
import { TokenBucket } from '../../../src/domain/token-bucket.js';
import type { FcmMessage } from '../../../src/adapters/fcm/fcm-message.js';
import type { FcmOutcome } from '../../../src/adapters/fcm/fcm-outcome.js';

interface Call {
  readonly messages: readonly FcmMessage[];
  readonly tokens: string[];
  settled: boolean;
  /** Answers one 'sent' outcome per message (messageId = token), or the given outcomes. */
  ok(outcomes?: FcmOutcome[]): void;
  fail(error: Error): void;
}

interface FakeSender {
  readonly send: (messages: readonly FcmMessage[]) => Promise<FcmOutcome[]>;
  readonly calls: Call[];
  /** Sends not answered yet. */
  open(): Call[];
  readonly active: number;
  readonly peak: number;
}

function fakeSender(onCall?: (call: Call) => void): FakeSender {
  const calls: Call[] = [];
  let active = 0;
  let peak = 0;
  const send = (messages: readonly FcmMessage[]): Promise<FcmOutcome[]> =>
    new Promise<FcmOutcome[]>((resolve, reject) => {
      active++;
      peak = Math.max(peak, active);
      const finish = (): void => {
        if (call.settled) throw new Error('call settled twice');
        call.settled = true;
        active--;
      };
      const call: Call = {
        messages,
        tokens: messages.map((m) => m.token),
        settled: false,
        ok(outcomes) {
          finish();
          resolve(outcomes ?? sentAll(messages));
        },
        fail(error) {
          finish();
          reject(error);
        },
      };
      calls.push(call);
      onCall?.(call);
    });
  return {
    send,
    calls,
    open: () => calls.filter((c) => !c.settled),
    get active() {
      return active;
    },
    get peak() {
      return peak;
    },
  };
}

function sentAll(messages: readonly FcmMessage[]): FcmOutcome[] {
  return messages.map((m) => ({ kind: 'sent', messageId: m.token }));
}

function batch(name: string, size: number): FcmMessage[] {
  return Array.from({ length: size }, (_, i) => ({ token: `${name}-${i}` }));
}

interface Tracked<T> {
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
}

/** Watches a promise (and handles its rejection at once, so no unhandled rejection). */
function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { state: 'pending' };
  p.then(
    (value) => {
      t.state = 'resolved';
      t.value = value;
    },
    (error: unknown) => {
      t.state = 'rejected';
      t.error = error;
    },
  );
  return t;
}

/** Lets every pending promise reaction run (the pipeline's continuations are all microtasks). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface SetupOptions {
  maxInFlight?: number;
  reservedForUrgent?: number;
  capacity?: number;
  splitLowAbove?: number;
  bucket?: { capacity: number; refillPerSecond: number };
  onCall?: (call: Call) => void;
}

function setup(options: SetupOptions = {}) {
  const clock = new ManualClock();
  const bucket = new TokenBucket(clock, options.bucket ?? { capacity: 1_000_000, refillPerSecond: 1_000_000 });
  const fake = fakeSender(options.onCall);
  const pauses: { untilMs: number; retryAfterMs: number }[] = [];
  const pipeline = new PushPipeline({
    clock,
    rateLimit: bucket,
    send: fake.send,
    scheduler: {
      maxInFlight: options.maxInFlight ?? 4,
      reservedForUrgent: options.reservedForUrgent ?? 1,
      capacity: options.capacity ?? 100_000,
      ...(options.splitLowAbove !== undefined ? { splitLowAbove: options.splitLowAbove } : {}),
    },
    onPause: (untilMs, retryAfterMs) => pauses.push({ untilMs, retryAfterMs }),
  });
  return { clock, bucket, fake, pipeline, pauses };
}

describe('outcomes in message order', () => {
  it('a plain batch resolves with one outcome per message, in order', async () => {
    const { fake, pipeline } = setup();
    const messages = batch('n', 5);
    const result = track(pipeline.send('normal', messages));
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.messages).toEqual(messages);
    const outcomes: FcmOutcome[] = [
      { kind: 'sent', messageId: 'm0' },
      { kind: 'remove-token', code: 'UNREGISTERED' },
      { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 0 },
      { kind: 'fail', code: 'INVALID_PAYLOAD', alert: true },
      { kind: 'sent', messageId: 'm4' },
    ];
    fake.calls[0]!.ok(outcomes);
    await flush();
    expect(result).toEqual({ state: 'resolved', value: outcomes });
    expect(pipeline.stats()).toMatchObject({ batchesSent: 1, messagesSent: 5, inFlight: 0, waiting: 0 });
  });

  it('an empty batch resolves at once without a send', async () => {
    const { fake, pipeline } = setup();
    await expect(pipeline.send('urgent', [])).resolves.toEqual([]);
    expect(fake.calls).toHaveLength(0);
  });

  it('a split low batch whose chunks come back out of order still resolves in message order, once all are back', async () => {
    const { fake, pipeline } = setup({ maxInFlight: 8, reservedForUrgent: 1, splitLowAbove: 3 });
    const messages = batch('low', 10);
    const result = track(pipeline.send('low_priority', messages));
    // 10 tokens in chunks of 3: [0,3) [3,6) [6,9) [9,10), all in flight at once (7 shared slots)
    expect(fake.calls.map((c) => c.tokens)).toEqual([
      ['low-0', 'low-1', 'low-2'],
      ['low-3', 'low-4', 'low-5'],
      ['low-6', 'low-7', 'low-8'],
      ['low-9'],
    ]);
    expect(pipeline.stats().inFlight).toBe(4);
    for (const i of [3, 1, 2]) {
      fake.calls[i]!.ok();
      await flush();
      expect(result.state).toBe('pending');
    }
    fake.calls[0]!.ok();
    await flush();
    expect(result.state).toBe('resolved');
    expect(result.value).toEqual(sentAll(messages));
    expect(pipeline.stats()).toMatchObject({ batchesSent: 4, messagesSent: 10, inFlight: 0 });
  });

  it('two batches completing in reverse order each get their own outcomes', async () => {
    const { fake, pipeline } = setup();
    const a = track(pipeline.send('normal', batch('a', 3)));
    const b = track(pipeline.send('high_priority', batch('b', 2)));
    expect(fake.calls).toHaveLength(2);
    fake.calls[1]!.ok();
    await flush();
    expect(b.state).toBe('resolved');
    expect(a.state).toBe('pending');
    fake.calls[0]!.ok();
    await flush();
    expect(a.value).toEqual(sentAll(batch('a', 3)));
    expect(b.value).toEqual(sentAll(batch('b', 2)));
  });
});

describe('urgent is strict, with a reserved slot', () => {
  it('urgent offered after a low backlog goes before the queued low chunks', async () => {
    // 2 slots, 1 reserved: the shared queues get one slot.
    const { fake, pipeline } = setup({ maxInFlight: 2, reservedForUrgent: 1, splitLowAbove: 3 });
    const low = track(pipeline.send('low_priority', batch('low', 12))); // 4 chunks
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['low-0']);
    expect(pipeline.stats().queues.low_priority.queuedItems).toBe(3);

    // The reserved slot takes urgent at once, although low chunks were queued first.
    const u1 = track(pipeline.send('urgent', batch('u1', 2)));
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['low-0', 'u1-0']);

    // Both slots busy: a second urgent waits, and when the low chunk's slot frees it goes, not the next low chunk.
    const u2 = track(pipeline.send('urgent', batch('u2', 1)));
    expect(fake.calls).toHaveLength(2);
    fake.calls[0]!.ok();
    await flush();
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['low-0', 'u1-0', 'u2-0']);

    // Urgent now holds both slots: low waits until one frees, and only then is handed out.
    fake.calls[1]!.ok();
    await flush();
    expect(u1.state).toBe('resolved');
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['low-0', 'u1-0', 'u2-0', 'low-3']);
    fake.calls[2]!.ok();
    await flush();
    expect(u2.state).toBe('resolved');
    // the reserved slot stays free for urgent: the low chunks go one at a time
    expect(fake.open().map((c) => c.tokens[0])).toEqual(['low-3']);
    for (let i = 0; i < 3; i++) {
      fake.open()[0]!.ok();
      await flush();
    }
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['low-0', 'u1-0', 'u2-0', 'low-3', 'low-6', 'low-9']);
    expect(fake.peak).toBe(2);
    expect(low.state).toBe('resolved');
    expect(low.value).toEqual(sentAll(batch('low', 12)));
  });
});

describe('rate limit', () => {
  it('a 429 (QUOTA_EXCEEDED with Retry-After) pauses all sending until the clock passes it, then sending resumes', async () => {
    const { clock, fake, pipeline, pauses } = setup();
    const first = track(pipeline.send('normal', batch('a', 3)));
    const start = clock.now();
    fake.calls[0]!.ok([
      { kind: 'sent' },
      { kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: 2_000 },
      { kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: 5_000 },
    ]);
    await flush();
    // the batch itself resolves with its outcomes (the 429'd tokens go through the retry queues)
    expect(first.state).toBe('resolved');
    expect(pauses).toEqual([{ untilMs: start + 5_000, retryAfterMs: 5_000 }]);
    expect(pipeline.stats().pauses).toBe(1);

    const normal = track(pipeline.send('normal', batch('b', 1)));
    const urgent = track(pipeline.send('urgent', batch('u', 1)));
    await flush();
    expect(fake.calls).toHaveLength(1); // not even urgent goes
    expect(pipeline.stats().queues.urgent.queuedItems).toBe(1);
    // the pipeline armed its timer for the end of the pause
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextDelay()).toBe(5_000);

    clock.advance(4_999);
    await flush();
    expect(fake.calls).toHaveLength(1);

    clock.advance(1);
    await flush();
    // urgent first (strict), then normal
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['a-0', 'u-0', 'b-0']);
    fake.calls[1]!.ok();
    fake.calls[2]!.ok();
    await flush();
    expect(normal.state).toBe('resolved');
    expect(urgent.state).toBe('resolved');
  });

  it('a 429 that comes back while other batches are queued holds them too', async () => {
    const { clock, fake, pipeline } = setup({ maxInFlight: 2, reservedForUrgent: 1 });
    track(pipeline.send('normal', batch('a', 1)));
    const queued = track(pipeline.send('normal', batch('b', 1))); // waits for the one shared slot
    expect(fake.calls).toHaveLength(1);
    fake.calls[0]!.ok([{ kind: 'retry', code: 'QUOTA_EXCEEDED', retryAfterMs: 1_000 }]);
    await flush();
    expect(fake.calls).toHaveLength(1);
    expect(clock.nextDelay()).toBe(1_000);
    clock.advance(1_000);
    await flush();
    expect(fake.calls).toHaveLength(2);
    fake.calls[1]!.ok();
    await flush();
    expect(queued.state).toBe('resolved');
  });

  it('other retry outcomes do not pause', async () => {
    const { fake, pipeline, pauses } = setup();
    track(pipeline.send('normal', batch('a', 1)));
    fake.calls[0]!.ok([{ kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 30_000 }]);
    await flush();
    track(pipeline.send('normal', batch('b', 1)));
    expect(fake.calls).toHaveLength(2);
    expect(pauses).toEqual([]);
  });

  it('when the bucket is empty the timer sends the next batch once it refilled', async () => {
    const { clock, fake, pipeline } = setup({ bucket: { capacity: 10, refillPerSecond: 10 } });
    track(pipeline.send('normal', batch('a', 10)));
    const b = track(pipeline.send('normal', batch('b', 5)));
    expect(fake.calls).toHaveLength(1);
    expect(clock.nextDelay()).toBe(500);
    clock.advance(499);
    expect(fake.calls).toHaveLength(1);
    clock.advance(1);
    expect(fake.calls).toHaveLength(2);
    fake.calls[1]!.ok();
    await flush();
    expect(b.state).toBe('resolved');
  });
});

describe('backpressure', () => {
  it('a batch beyond the queue capacity waits outside the scheduler and is admitted in order when space frees', async () => {
    // one shared slot, 4 tokens per queue
    const { fake, pipeline } = setup({ maxInFlight: 2, reservedForUrgent: 1, capacity: 4 });
    const a = track(pipeline.send('normal', batch('a', 3))); // in flight
    const b = track(pipeline.send('normal', batch('b', 3))); // queued (3 tokens)
    const c = track(pipeline.send('normal', batch('c', 3))); // 3 + 3 > 4: waits
    const d = track(pipeline.send('normal', batch('d', 1))); // would fit, but waits behind c (arrival order)
    expect(fake.calls.map((x) => x.tokens[0])).toEqual(['a-0']);
    expect(pipeline.stats()).toMatchObject({ waiting: 2, inFlight: 1 });
    expect(pipeline.stats().queues.normal).toMatchObject({ queuedItems: 1, queuedTokens: 3 });
    // another queue is not held up by normal's backpressure
    const h = track(pipeline.send('high_priority', batch('h', 1)));
    expect(pipeline.stats().waiting).toBe(2);

    fake.calls[0]!.ok();
    await flush();
    expect(a.state).toBe('resolved');
    // high_priority (lower pass) takes the freed slot: normal is not handed out, so c and d still wait
    expect(fake.calls.map((x) => x.tokens[0])).toEqual(['a-0', 'h-0']);
    expect(pipeline.stats().waiting).toBe(2);

    fake.calls[1]!.ok();
    await flush();
    // b handed out: normal has room again, c then d are admitted (in arrival order)
    expect(fake.calls.map((x) => x.tokens[0])).toEqual(['a-0', 'h-0', 'b-0']);
    expect(pipeline.stats().waiting).toBe(0);
    expect(pipeline.stats().queues.normal).toMatchObject({ queuedItems: 2, queuedTokens: 4 });

    for (let i = 0; i < 10 && fake.open().length > 0; i++) {
      fake.open()[0]!.ok();
      await flush();
    }
    expect(fake.calls.map((x) => x.tokens[0])).toEqual(['a-0', 'h-0', 'b-0', 'c-0', 'd-0']);
    for (const t of [b, c, d, h]) expect(t.state).toBe('resolved');
    expect(c.value).toEqual(sentAll(batch('c', 3)));
    expect(fake.peak).toBe(1);
  });

  it('the waiting batch is admitted exactly when the queue has room for it', async () => {
    const { fake, pipeline } = setup({ maxInFlight: 2, reservedForUrgent: 1, capacity: 4 });
    track(pipeline.send('low_priority', batch('a', 1))); // in flight
    track(pipeline.send('low_priority', batch('b', 1))); // queued 1
    track(pipeline.send('low_priority', batch('c', 3))); // queued 4 (full)
    const w = track(pipeline.send('low_priority', batch('w', 4))); // waits
    expect(pipeline.stats()).toMatchObject({ waiting: 1 });
    fake.calls[0]!.ok(); // b handed out: 3 queued, no room for 4
    await flush();
    expect(pipeline.stats()).toMatchObject({ waiting: 1 });
    expect(pipeline.stats().queues.low_priority.queuedTokens).toBe(3);
    fake.calls[1]!.ok(); // c handed out: empty, w admitted
    await flush();
    expect(pipeline.stats()).toMatchObject({ waiting: 0 });
    expect(pipeline.stats().queues.low_priority.queuedTokens).toBe(4);
    fake.calls[2]!.ok();
    await flush();
    fake.calls[3]!.ok();
    await flush();
    expect(w.state).toBe('resolved');
    expect(fake.calls.map((x) => x.tokens[0])).toEqual(['a-0', 'b-0', 'c-0', 'w-0']);
  });
});

describe('sender failures', () => {
  it('a chunk the sender rejects fails its batch only once the other chunks are back, and frees the slots', async () => {
    const { fake, pipeline } = setup({ maxInFlight: 4, reservedForUrgent: 1, splitLowAbove: 3 });
    const low = track(pipeline.send('low_priority', batch('low', 9))); // 3 chunks, the 3 shared slots
    const urgent = track(pipeline.send('urgent', batch('u', 1)));
    const normal = track(pipeline.send('normal', batch('n', 2))); // queued: no shared slot
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['low-0', 'low-3', 'low-6', 'u-0']);

    const died = new Error('the thread died');
    fake.calls[1]!.fail(died);
    await flush();
    expect(low.state).toBe('pending');
    expect(pipeline.stats().senderFailures).toBe(1);
    // the failed chunk's slot is free: the queued normal batch goes
    expect(fake.calls.map((c) => c.tokens[0])).toEqual(['low-0', 'low-3', 'low-6', 'u-0', 'n-0']);

    fake.calls[0]!.ok();
    await flush();
    expect(low.state).toBe('pending');
    fake.calls[2]!.ok();
    await flush();
    expect(low.state).toBe('rejected');
    expect(low.error).toBe(died);

    // the other batches are untouched
    fake.calls[3]!.ok();
    fake.calls[4]!.ok();
    await flush();
    expect(urgent.state).toBe('resolved');
    expect(normal.state).toBe('resolved');
    expect(pipeline.stats()).toMatchObject({ inFlight: 0, senderFailures: 1 });
    // and new batches go
    const later = track(pipeline.send('low_priority', batch('later', 2)));
    expect(fake.calls).toHaveLength(6);
    fake.calls[5]!.ok();
    await flush();
    expect(later.state).toBe('resolved');
  });

  it('a sender that throws a non-Error still rejects the batch with an Error', async () => {
    const { fake, pipeline } = setup();
    const p = track(pipeline.send('normal', batch('a', 1)));
    fake.calls[0]!.fail('boom' as unknown as Error);
    await flush();
    expect(p.state).toBe('rejected');
    expect(p.error).toBeInstanceOf(Error);
    expect((p.error as Error).message).toContain('boom');
  });

  it('a sender answering the wrong number of outcomes rejects the batch', async () => {
    const { fake, pipeline } = setup({ splitLowAbove: 2 });
    const short = track(pipeline.send('normal', batch('short', 3)));
    fake.calls[0]!.ok([{ kind: 'sent' }]);
    await flush();
    expect(short.state).toBe('rejected');
    expect((short.error as Error).message).toMatch(/answered 1 outcomes for 3 messages/);

    const long = track(pipeline.send('low_priority', batch('long', 4))); // 2 chunks of 2
    expect(fake.calls).toHaveLength(3);
    fake.calls[1]!.ok([{ kind: 'sent' }, { kind: 'sent' }, { kind: 'sent' }]);
    await flush();
    expect(long.state).toBe('pending'); // the other chunk is still out
    fake.calls[2]!.ok();
    await flush();
    expect(long.state).toBe('rejected');
    expect((long.error as Error).message).toMatch(/answered 3 outcomes for 2 messages/);
    expect(pipeline.stats()).toMatchObject({ inFlight: 0, senderFailures: 2, batchesSent: 1, messagesSent: 2 });
  });
});

describe('close', () => {
  it('fails waiting and queued batches, lets in-flight ones finish, resolves after them; send after close rejects', async () => {
    // 3 slots, 1 reserved (2 shared), 2 tokens per queue
    const { fake, pipeline } = setup({ maxInFlight: 3, reservedForUrgent: 1, capacity: 2, splitLowAbove: 3 });
    const a = track(pipeline.send('normal', batch('a', 2))); // in flight
    const low = track(pipeline.send('low_priority', batch('low', 6))); // chunk 0 in flight, chunk 1 queued
    const u = track(pipeline.send('urgent', batch('u', 1))); // reserved slot
    const b = track(pipeline.send('normal', batch('b', 1))); // queued
    const c = track(pipeline.send('normal', batch('c', 2))); // waits (1 + 2 > 2)
    expect(fake.calls.map((x) => x.tokens[0])).toEqual(['a-0', 'low-0', 'u-0']);
    expect(pipeline.stats()).toMatchObject({ inFlight: 3, waiting: 1 });

    const closing = track(pipeline.close());
    await flush();
    for (const t of [b, c, low]) {
      expect(t.state).toBe('rejected');
      expect(t.error).toBeInstanceOf(PipelineClosedError);
    }
    expect(a.state).toBe('pending');
    expect(u.state).toBe('pending');
    expect(closing.state).toBe('pending');
    expect(pipeline.stats()).toMatchObject({ waiting: 0, inFlight: 3 });
    expect(pipeline.stats().queues.normal.queuedItems).toBe(0);
    expect(pipeline.stats().queues.low_priority.queuedItems).toBe(0);

    await expect(pipeline.send('urgent', batch('late', 1))).rejects.toBeInstanceOf(PipelineClosedError);

    fake.calls[0]!.ok();
    await flush();
    expect(a.state).toBe('resolved');
    expect(a.value).toEqual(sentAll(batch('a', 2)));
    expect(closing.state).toBe('pending');
    fake.calls[2]!.ok();
    await flush();
    expect(u.state).toBe('resolved');
    expect(closing.state).toBe('pending'); // the low chunk (of a batch already failed) is still out
    fake.calls[1]!.ok();
    await flush();
    expect(closing.state).toBe('resolved');
    expect(low.error).toBeInstanceOf(PipelineClosedError);
    // nothing queued was ever handed to the sender
    expect(fake.calls).toHaveLength(3);
    await expect(pipeline.close()).resolves.toBeUndefined();
  });

  it('close clears the rate-limit timer and sends nothing afterwards', async () => {
    const { clock, fake, pipeline } = setup({ bucket: { capacity: 1, refillPerSecond: 1 } });
    track(pipeline.send('normal', batch('a', 1)));
    const b = track(pipeline.send('normal', batch('b', 1)));
    expect(clock.pendingTimers).toBe(1);
    const closing = track(pipeline.close());
    expect(clock.pendingTimers).toBe(0);
    await flush();
    expect(b.error).toBeInstanceOf(PipelineClosedError);
    fake.calls[0]!.ok();
    await flush();
    expect(closing.state).toBe('resolved');
    clock.advance(10_000);
    expect(fake.calls).toHaveLength(1);
  });

  it('close with nothing in flight resolves at once', async () => {
    const { pipeline } = setup();
    await expect(pipeline.close()).resolves.toBeUndefined();
  });
});

describe('concurrency bound under a random mix', () => {
  type Op = { kind: 'offer'; queue: PriorityQueue; size: number } | { kind: 'answer'; pick: number } | { kind: 'tick'; ms: number };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('offer' as const), queue: fc.constantFrom(...PRIORITY_QUEUES), size: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('answer' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 200 }) }) },
  );

  it('never more than maxInFlight sends (and never more than the shared slots for non-urgent); every batch completes in order', async () => {
    // what the runs went through, to be sure the property saw backpressure, failures, splits and rate-limit waits
    const seen = { waiting: 0, rejected: 0, split: 0, timerWaits: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((maxInFlight) =>
          fc.record({
            maxInFlight: fc.constant(maxInFlight),
            reservedForUrgent: fc.integer({ min: 0, max: maxInFlight - 1 }),
            capacity: fc.integer({ min: 10, max: 120 }),
            splitLowAbove: fc.integer({ min: 3, max: 30 }),
            failEvery: fc.integer({ min: 0, max: 7 }),
            withBucket: fc.boolean(),
          }),
        ),
        fc.array(opArb, { minLength: 200, maxLength: 600 }),
        async (config, ops) => {
          const violations: string[] = [];
          let sharedActive = 0;
          let sharedPeak = 0;
          const isUrgent = (call: Call): boolean => call.tokens[0]!.startsWith('urgent');
          const holder: { pipeline?: PushPipeline } = {};
          const { clock, fake, pipeline } = setup({
            maxInFlight: config.maxInFlight,
            reservedForUrgent: config.reservedForUrgent,
            capacity: config.capacity,
            splitLowAbove: config.splitLowAbove,
            ...(config.withBucket ? { bucket: { capacity: 60, refillPerSecond: 300 } } : {}),
            onCall: (call) => {
              if (!isUrgent(call)) {
                sharedActive++;
                sharedPeak = Math.max(sharedPeak, sharedActive);
                // strict priority: nothing shared is handed out while urgent work is queued
                const queuedUrgent = holder.pipeline?.stats().queues.urgent.queuedItems ?? 0;
                if (queuedUrgent > 0) violations.push(`shared ${call.tokens[0]} handed out with ${queuedUrgent} urgent queued`);
              }
            },
          });
          holder.pipeline = pipeline;
          const answer = (call: Call, fail: boolean): void => {
            if (!isUrgent(call)) sharedActive--;
            if (fail) call.fail(new Error('thread died'));
            else call.ok();
          };

          const batches: { messages: FcmMessage[]; result: Tracked<FcmOutcome[]> }[] = [];
          let answered = 0;
          let offered = 0;
          const check = (): void => {
            if (fake.active > config.maxInFlight) violations.push(`${fake.active} sends in flight > ${config.maxInFlight}`);
          };
          for (const op of ops) {
            if (op.kind === 'offer') {
              if (offered >= 200) continue;
              const messages = batch(`${op.queue}#${offered++}`, op.size);
              batches.push({ messages, result: track(pipeline.send(op.queue, messages)) });
            } else if (op.kind === 'answer') {
              const open = fake.open();
              if (open.length === 0) continue;
              answered++;
              answer(open[op.pick % open.length]!, config.failEvery > 0 && answered % (config.failEvery * 5) === 0);
              await flush();
            } else {
              clock.advance(op.ms);
            }
            check();
            if (pipeline.stats().waiting > 0) seen.waiting++;
            if (clock.pendingTimers > 0) seen.timerWaits++;
          }
          // Offer whatever is left of the 200, then drain: answer everything, advancing time when only the rate limit waits.
          while (offered < 200) {
            const queue = PRIORITY_QUEUES[offered % 4]!;
            const messages = batch(`${queue}#${offered++}`, 1 + (offered % 37));
            batches.push({ messages, result: track(pipeline.send(queue, messages)) });
            check();
          }
          for (let guard = 0; guard < 100_000; guard++) {
            await flush();
            const open = fake.open();
            if (open.length > 0) answer(open[0]!, false);
            else if (clock.pendingTimers > 0) clock.advance(clock.nextDelay() ?? 1);
            else break;
            check();
          }
          await flush();
          expect(violations).toEqual([]);
          expect(fake.peak).toBeLessThanOrEqual(config.maxInFlight);
          expect(sharedPeak).toBeLessThanOrEqual(config.maxInFlight - config.reservedForUrgent);
          expect(pipeline.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
          for (const b of batches) {
            expect(b.result.state).not.toBe('pending');
            if (b.result.state === 'resolved') expect(b.result.value).toEqual(sentAll(b.messages));
            else {
              expect((b.result.error as Error).message).toBe('thread died');
              seen.rejected++;
            }
          }
          seen.split += fake.calls.filter((c) => c.tokens[0]!.startsWith('low_priority') && !c.tokens[0]!.endsWith('-0')).length;
          expect(batches).toHaveLength(200);
          await pipeline.close();
        },
      ),
      { numRuns: 60, seed: 20_260_101 },
    );
    expect(seen.waiting).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
    expect(seen.split).toBeGreaterThan(0);
    expect(seen.timerWaits).toBeGreaterThan(0);
  });
});
