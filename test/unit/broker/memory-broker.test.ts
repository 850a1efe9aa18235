import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterInfo, type Delivery, type Outcome } from '../../../src/adapters/broker/broker.js';
import { MemoryBroker } from '../../../src/adapters/broker/memory-broker.js';
import type { BrokerQueue } from '../../../src/adapters/broker/topology.js';
import { ManualClock } from '../../../src/clock.js';

/** Deliveries as they come, and a handler whose outcome the test decides per delivery. */
function inbox() {
  const got: Delivery[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const outcomes: Array<{ delivery: Delivery; settle: (o: Outcome) => void }> = [];
  const notify = () => {
    for (const w of [...waiters]) if (got.length >= w.n) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  return {
    got,
    outcomes,
    /** Settles every delivery at once with `outcome`. */
    auto: (outcome: Outcome | ((d: Delivery) => Outcome)) => async (d: Delivery) => {
      got.push(d);
      notify();
      return typeof outcome === 'function' ? outcome(d) : outcome;
    },
    /** Holds every delivery until the test settles it. */
    held: () => (d: Delivery) =>
      new Promise<Outcome>((settle) => {
        outcomes.push({ delivery: d, settle });
        got.push(d);
        notify();
      }),
    /** Resolves once `n` deliveries in all have arrived. */
    until: (n: number) => new Promise<void>((resolve) => {
      waiters.push({ n, resolve });
      notify();
    }),
  };
}

/** Lets the broker's microtask chains (deliver → handler → settle) run out. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

const body = (s: string) => Buffer.from(s);

describe('memory broker', () => {
  let broker: MemoryBroker;
  let clock: ManualClock;
  const make = (topology = {}) => {
    clock = new ManualClock();
    broker = new MemoryBroker({ clock, topology });
    return broker;
  };
  afterEach(async () => {
    await broker?.close();
  });

  it('delivers a published message with its id and headers, and forgets it once acked', async () => {
    make();
    const box = inbox();
    await broker.consume('urgent', { prefetch: 4 }, box.auto('ack'));
    await broker.publish('urgent', body('hello'), { messageId: 'job-1:0', headers: { job: 'job-1' }, priority: 9 });
    await box.until(1);
    expect(box.got[0]).toMatchObject({ queue: 'urgent', messageId: 'job-1:0', headers: { job: 'job-1' }, priority: 9, redelivered: false, deliveryCount: 0, attempt: 0 });
    expect(box.got[0]!.body.toString()).toBe('hello');
    await settled();
    expect(broker.stats().queues.urgent).toEqual({ ready: 0, unacked: 0, consumers: 1 });
  });

  it('keeps messages published before any consumer, in order', async () => {
    make();
    for (let i = 0; i < 3; i++) await broker.publish('normal', body(String(i)), { messageId: `m${i}` });
    expect(broker.stats().queues.normal.ready).toBe(3);
    const box = inbox();
    await broker.consume('normal', { prefetch: 10 }, box.auto('ack'));
    await box.until(3);
    expect(box.got.map((d) => d.messageId)).toEqual(['m0', 'm1', 'm2']);
  });

  it('puts a nacked message back at the head of its queue, counted as redelivered', async () => {
    make();
    await broker.publish('normal', body('a'), { messageId: 'a' });
    await broker.publish('normal', body('b'), { messageId: 'b' });
    const box = inbox();
    let first = true;
    await broker.consume('normal', { prefetch: 1 }, box.auto(() => (first ? ((first = false), 'nack-requeue') : 'ack')));
    await box.until(3);
    expect(box.got.map((d) => [d.messageId, d.deliveryCount, d.redelivered])).toEqual([
      ['a', 0, false],
      ['a', 1, true],
      ['b', 0, false],
    ]);
  });

  it('dead-letters a rejected message at once, with reason `rejected`', async () => {
    make();
    await broker.consume('low_priority', { prefetch: 1 }, inbox().auto('reject'));
    const dead = inbox();
    await broker.consume('dead_letters', { prefetch: 1 }, dead.auto('ack'));
    await broker.publish('low_priority', body('bad'), { messageId: 'poison' });
    await dead.until(1);
    expect(dead.got[0]!.messageId).toBe('poison');
    expect(dead.got[0]!.body.toString()).toBe('bad');
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'low_priority', reason: 'rejected', attempts: 0 });
  });

  it('dead-letters a message returned past the delivery limit (limit + 1 deliveries), with reason `delivery_limit`', async () => {
    make({ deliveryLimit: 2 });
    const box = inbox();
    await broker.consume('normal', { prefetch: 1 }, box.auto('nack-requeue'));
    const dead = inbox();
    await broker.consume('dead_letters', { prefetch: 1 }, dead.auto('ack'));
    await broker.publish('normal', body('crashes every worker'), { messageId: 'poison', headers: { job: 'j' } });
    await dead.until(1);
    // As RabbitMQ 3.10 quorum queues do: returned twice (the limit), dead on the third return.
    expect(box.got.map((d) => d.deliveryCount)).toEqual([0, 1, 2]);
    expect(dead.got[0]!.headers).toMatchObject({ job: 'j' });
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'normal', reason: 'delivery_limit', attempts: 0 });
  });

  it('counts a handler that throws as nack-requeue', async () => {
    make({ deliveryLimit: 1 });
    const dead = inbox();
    await broker.consume('dead_letters', { prefetch: 1 }, dead.auto('ack'));
    let calls = 0;
    await broker.consume('urgent', { prefetch: 1 }, async () => {
      calls++;
      throw new Error('handler bug');
    });
    await broker.publish('urgent', body('x'), { messageId: 'x' });
    await dead.until(1);
    expect(calls).toBe(2);
    expect(deadLetterInfo(dead.got[0]!.headers).reason).toBe('delivery_limit');
  });

  it('never holds more unacked deliveries per consumer than its prefetch', async () => {
    make();
    const box = inbox();
    await broker.consume('high_priority', { prefetch: 2 }, box.held());
    for (let i = 0; i < 5; i++) await broker.publish('high_priority', body(String(i)), { messageId: `m${i}` });
    await box.until(2);
    await settled();
    expect(box.got).toHaveLength(2);
    expect(broker.stats().queues.high_priority).toEqual({ ready: 3, unacked: 2, consumers: 1 });

    box.outcomes[0]!.settle('ack');
    await box.until(3);
    await settled();
    expect(box.got).toHaveLength(3);
    expect(broker.stats().queues.high_priority).toMatchObject({ ready: 2, unacked: 2 });
    for (const o of box.outcomes.slice(1)) o.settle('ack');
    await box.until(5);
    box.outcomes[3]!.settle('ack');
    box.outcomes[4]!.settle('ack');
    await settled();
    expect(broker.stats().queues.high_priority).toEqual({ ready: 0, unacked: 0, consumers: 1 });
  });

  it('shares a queue between consumers, each within its own prefetch', async () => {
    make();
    const a = inbox();
    const b = inbox();
    await broker.consume('normal', { prefetch: 1 }, a.held());
    await broker.consume('normal', { prefetch: 1 }, b.held());
    for (let i = 0; i < 3; i++) await broker.publish('normal', body(String(i)), { messageId: `m${i}` });
    await a.until(1);
    await b.until(1);
    await settled();
    expect(a.got.length + b.got.length).toBe(2);
    expect(await broker.consumerCount('normal')).toBe(2);
  });

  it('brings a retried message back to its queue after the smallest tier >= the delay, on the clock', async () => {
    make({ retryTiersMs: [1_000, 10_000] });
    const box = inbox();
    await broker.consume('normal', { prefetch: 1 }, box.auto('ack'));
    await broker.retry('normal', body('later'), { messageId: 'r1', headers: { job: 'j' }, attempt: 1, delayMs: 500, reason: 'UNAVAILABLE' });
    await settled();
    expect(box.got).toHaveLength(0);
    expect(broker.stats().retrying).toEqual({ 'retry.normal.1000': 1 });
    clock.advance(999);
    await settled();
    expect(box.got).toHaveLength(0);
    clock.advance(1);
    await box.until(1);
    expect(box.got[0]).toMatchObject({ queue: 'normal', messageId: 'r1', attempt: 1, headers: { job: 'j', 'x-retry-reason': 'UNAVAILABLE' } });
    expect(box.got[0]!.body.toString()).toBe('later');
    expect(broker.stats().retrying).toEqual({});
  });

  it('uses the largest tier for a delay longer than every tier, and exact tiers as they are', async () => {
    make({ retryTiersMs: [1_000, 10_000] });
    const box = inbox();
    await broker.consume('urgent', { prefetch: 5 }, box.auto('ack'));
    await broker.retry('urgent', body('a'), { messageId: 'long', attempt: 2, delayMs: 60_000, reason: 'QUOTA_EXCEEDED' });
    await broker.retry('urgent', body('b'), { messageId: 'exact', attempt: 1, delayMs: 1_000, reason: 'INTERNAL' });
    clock.advance(1_000);
    await box.until(1);
    expect(box.got.map((d) => d.messageId)).toEqual(['exact']);
    clock.advance(9_000);
    await box.until(2);
    expect(box.got.map((d) => [d.messageId, d.attempt])).toEqual([
      ['exact', 1],
      ['long', 2],
    ]);
  });

  it('dead-letters on the application`s word with its reason and attempt count', async () => {
    make();
    const dead = inbox();
    await broker.consume('dead_letters', { prefetch: 1 }, dead.auto('ack'));
    await broker.deadLetter('high_priority', body('gave up'), 'max attempts (UNAVAILABLE)', 4, { messageId: 'job:3', headers: { job: 'job' } });
    await dead.until(1);
    expect(dead.got[0]).toMatchObject({ queue: 'dead_letters', messageId: 'job:3', headers: { job: 'job' } });
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'high_priority', reason: 'max attempts (UNAVAILABLE)', attempts: 4 });
  });

  it('keeps the retry attempt through a later death', async () => {
    make({ retryTiersMs: [10], deliveryLimit: 0 });
    await broker.consume('normal', { prefetch: 1 }, inbox().auto('reject'));
    const dead = inbox();
    await broker.consume('dead_letters', { prefetch: 1 }, dead.auto('ack'));
    await broker.retry('normal', body('x'), { messageId: 'x', attempt: 3, delayMs: 10, reason: 'INTERNAL' });
    clock.advance(10);
    await dead.until(1);
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'normal', reason: 'rejected', attempts: 3 });
  });

  it('pauses (no deliveries, not counted), resumes, and cancels after the deliveries in flight settle', async () => {
    make();
    const box = inbox();
    const handle = await broker.consume('low_priority', { prefetch: 1 }, box.held());
    expect(await broker.consumerCount('low_priority')).toBe(1);
    await handle.pause();
    expect(handle.paused).toBe(true);
    expect(await broker.consumerCount('low_priority')).toBe(0);
    await broker.publish('low_priority', body('1'), { messageId: 'm1' });
    await broker.publish('low_priority', body('2'), { messageId: 'm2' });
    await settled();
    expect(box.got).toHaveLength(0);

    await handle.resume();
    await box.until(1);
    let cancelled = false;
    const cancelling = handle.cancel().then(() => (cancelled = true));
    await settled();
    expect(cancelled).toBe(false); // m1 still in flight
    expect(await broker.consumerCount('low_priority')).toBe(0);
    box.outcomes[0]!.settle('ack');
    await cancelling;
    expect(await handle.ended).toEqual({ reason: 'cancelled' });
    await settled();
    expect(box.got).toHaveLength(1); // m2 stays queued for another consumer
    expect(broker.stats().queues.low_priority).toEqual({ ready: 1, unacked: 0, consumers: 0 });
  });

  it('refuses work once closed and ends its consumers with broker-closed', async () => {
    make({ retryTiersMs: [1_000] });
    const handle = await broker.consume('normal', { prefetch: 1 }, inbox().auto('ack'));
    await broker.retry('normal', body('x'), { messageId: 'x', attempt: 1, delayMs: 1, reason: 'r' });
    const events: string[] = [];
    broker.on((e) => events.push(e.type));
    await broker.close();
    expect(await handle.ended).toEqual({ reason: 'broker-closed' });
    expect(clock.pendingTimers).toBe(0);
    expect(broker.isUp).toBe(false);
    expect(events).toEqual(['down']);
    await expect(broker.publish('normal', body('y'), { messageId: 'y' })).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    await expect(broker.consumerCount('normal')).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
  });

  it('rejects a prefetch below 1', async () => {
    make();
    const q: BrokerQueue = 'urgent';
    await expect(broker.consume(q, { prefetch: 0 }, inbox().auto('ack'))).rejects.toBeInstanceOf(RangeError);
  });
});
