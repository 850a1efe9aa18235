import { describe, expect, it } from 'vitest';
import { brokerActor } from '../../../actors/resources/broker-actor.js';
import { queueConsumerActor } from '../../../actors/dispatch/queue-consumer-actor.js';
import type { Delivery, Outcome } from '../../../src/adapters/broker/broker.js';
import { MemoryBroker } from '../../../src/adapters/broker/memory-broker.js';
import type { PriorityQueue } from '../../../src/domain/priority.js';
import type { ConsumerMessage, ConsumerStats } from '../../../src/dispatch/consumer-messages.js';
import type { TreeNode } from '../../../src/contracts/supervision.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import { consumersSupervisor } from '../../../supervisors/tree/consumers.js';
import { testRuntime } from '../../support/supervision.js';
import { SwitchableBroker } from '../../support/switchable-broker.js';


interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Lets the microtasks and mailboxes run (no time passes on the manual clock). */
async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

async function until(what: string, probe: () => boolean | Promise<boolean>, max = 500): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await probe()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

function find(node: TreeNode, name: string): TreeNode | undefined {
  if (node.name === name) return node;
  for (const c of node.children ?? []) {
    const f = find(c, name);
    if (f) return f;
  }
  return undefined;
}

const QUEUE: PriorityQueue = 'urgent';
const NAME = 'consumer.urgent';

async function start(handle: (d: Delivery) => Promise<Outcome>, prefetch = 2, make?: () => MemoryBroker) {
  const t = testRuntime();
  const brokers: MemoryBroker[] = [];
  const create = ({ clock }: { clock: import('../../../src/clock.js').Clock }) => {
    const b = make ? make() : new MemoryBroker({ clock, topology: { deliveryLimit: 5 } });
    brokers.push(b);
    return b;
  };
  await t.runtime.start(
    supervisor({
      name: 'root',
      children: [
        supervisor({ name: 'broker-sup', children: [actor({ name: 'broker', readiness: 'required', behaviour: brokerActor({ mode: 'custom', create }) })] }),
        actor({ name: NAME, readiness: 'required', behaviour: queueConsumerActor({ queue: QUEUE, prefetch, handle, retryMs: 100 }) }),
      ],
    }),
  );
  const broker = () => brokers[brokers.length - 1]!;
  const node = () => find(t.runtime.tree(), NAME)!;
  const stats = () => t.runtime.ask<ConsumerMessage, 'stats'>(NAME, 'stats', {}, 1_000);
  const ask = <T extends 'pause' | 'resume'>(type: T, payload: T extends 'pause' ? { reason: string } : { reason?: string }) =>
    t.runtime.ask<ConsumerMessage, T>(NAME, type, payload as never, 1_000);
  const publish = (body: string, id = body) => broker().publish(QUEUE, Buffer.from(body), { messageId: id });
  await until('subscribed', async () => (await stats()).attached);
  return { ...t, broker, brokers, node, stats, ask, publish };
}

describe('queue consumer actor', () => {
  it('hands deliveries to the handler, never more than prefetch at once, and acks them', async () => {
    const held: Array<{ d: Delivery; done: Deferred<Outcome> }> = [];
    const c = await start(async (d) => {
      const done = deferred<Outcome>();
      held.push({ d, done });
      return done.promise;
    }, 2);
    expect(c.node().stats.state).toBe('running');
    for (let i = 0; i < 5; i++) await c.publish(`m${i}`);
    await ticks();
    expect(held).toHaveLength(2);
    expect((await c.stats()).inFlight).toBe(2);
    expect(c.broker().stats().queues.urgent).toMatchObject({ ready: 3, unacked: 2 });

    held[0]!.done.resolve('ack');
    await until('third delivery', () => held.length === 3);
    await ticks();
    expect(held).toHaveLength(3);
    for (let i = 1; i < 5; i++) {
      await until(`delivery ${i}`, () => held.length > i);
      held[i]!.done.resolve('ack');
    }
    await until('all acked', async () => (await c.stats()).acks === 5);
    expect(held.map((h) => h.d.body.toString())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(await c.stats()).toMatchObject({ deliveries: 5, acks: 5, nacks: 0, rejects: 0, inFlight: 0, maxInFlight: 2 });
    expect(c.broker().stats().queues.urgent).toMatchObject({ ready: 0, unacked: 0, consumers: 1 });
    await c.runtime.stop();
  });

  it('applies ack, nack-requeue and reject, and counts each', async () => {
    const seen: string[] = [];
    const c = await start(async (d) => {
      const body = d.body.toString();
      seen.push(`${body}${d.redelivered ? '(again)' : ''}`);
      if (body === 'requeue-once') return d.redelivered ? 'ack' : 'nack-requeue';
      if (body === 'bad') return 'reject';
      return 'ack';
    }, 1);
    await c.publish('ok');
    await c.publish('requeue-once');
    await c.publish('bad');
    await until('all settled', async () => {
      const s = await c.stats();
      return s.acks + s.rejects === 3;
    });
    expect(seen).toEqual(['ok', 'requeue-once', 'requeue-once(again)', 'bad']);
    expect(await c.stats()).toMatchObject({ deliveries: 4, acks: 2, nacks: 1, rejects: 1, failures: 0 });
    expect(c.broker().stats().queues.dead_letters.ready).toBe(1);
    await c.runtime.stop();
  });

  it('puts a delivery back when the handler throws, and never crashes', async () => {
    let calls = 0;
    const c = await start(async (d) => {
      calls++;
      if (!d.redelivered) throw new Error('handler bug');
      return 'ack';
    }, 1);
    await c.publish('x');
    await until('acked after the redelivery', async () => (await c.stats()).acks === 1);
    expect(calls).toBe(2);
    expect(await c.stats()).toMatchObject({ deliveries: 2, acks: 1, nacks: 1, failures: 1 });
    expect(c.node().stats).toMatchObject({ state: 'running', crashes: 0, restarts: 0 });
    await c.runtime.stop();
  });

  it('treats an unknown outcome as nack-requeue', async () => {
    let calls = 0;
    const c = await start(async () => (++calls === 1 ? ('maybe' as Outcome) : 'ack'), 1);
    await c.publish('x');
    await until('acked', async () => (await c.stats()).acks === 1);
    expect(await c.stats()).toMatchObject({ deliveries: 2, nacks: 1, acks: 1 });
    await c.runtime.stop();
  });

  it('stops deliveries while paused (state paused, still ready) and takes them again on resume', async () => {
    const got: string[] = [];
    const c = await start(async (d) => {
      got.push(d.body.toString());
      return 'ack';
    }, 2);
    await c.ask('pause', { reason: 'FCM quota exhausted' });
    expect(c.node().stats).toMatchObject({ state: 'paused', detail: 'FCM quota exhausted' });
    expect((await c.stats()).pausedReason).toBe('FCM quota exhausted');
    expect(c.broker().stats().queues.urgent.consumers).toBe(0);
    expect(c.runtime.readiness('worker')).toMatchObject({ ready: true });

    await c.publish('a');
    await c.publish('b');
    await ticks();
    expect(got).toEqual([]);

    await c.ask('resume', { reason: 'quota back' });
    expect(c.node().stats.state).toBe('running');
    await until('both delivered', () => got.length === 2);
    expect(got).toEqual(['a', 'b']);
    expect(c.broker().stats().queues.urgent.consumers).toBe(1);
    await c.runtime.stop();
  });

  it('on stop, cancels the subscription and waits for the handlers in flight to settle', async () => {
    const order: string[] = [];
    const done = deferred<Outcome>();
    let started = false;
    const c = await start(async () => {
      started = true;
      const o = await done.promise;
      order.push('handler settled');
      return o;
    }, 1);
    const b = c.broker();
    const close = b.close.bind(b);
    b.close = async () => {
      order.push('broker closed');
      return close();
    };
    await c.publish('slow');
    await until('delivered', () => started);
    let stopped = false;
    const stopping = c.runtime.stop().then(() => (stopped = true));
    await ticks(50);
    expect(stopped).toBe(false);
    expect(b.stats().queues.urgent.consumers).toBe(0); // cancelled: no new deliveries
    done.resolve('ack');
    await stopping;
    expect(order).toEqual(['handler settled', 'broker closed']);
  });

  it('reports RabbitMQ away as backing-off and running again once it is back', async () => {
    let sw!: SwitchableBroker;
    const got: string[] = [];
    const c = await start(
      async (d) => {
        got.push(d.body.toString());
        return 'ack';
      },
      1,
      () => (sw = new SwitchableBroker({ clock: { now: () => 0, setTimeout: () => ({}), clearTimeout: () => undefined } }, true)),
    );
    expect(c.node().stats.state).toBe('running');
    sw.set({ type: 'down', reason: 'connection to RabbitMQ closed: CONNECTION_FORCED', retryInMs: 200 });
    await until('backing-off', () => c.node().stats.state === 'backing-off');
    expect(c.node().stats.detail).toContain('CONNECTION_FORCED');
    expect(c.runtime.readiness('worker')).toMatchObject({ ready: false });
    sw.set({ type: 'up' });
    await until('running', () => c.node().stats.state === 'running');
    await c.publish('after');
    await until('consumed', () => got.length === 1);
    expect(c.node().stats).toMatchObject({ crashes: 0, restarts: 0 });
    await c.runtime.stop();
  });

  it('subscribes again to the new Broker when the broker actor restarted', async () => {
    const got: string[] = [];
    const c = await start(async (d) => {
      got.push(d.body.toString());
      return 'ack';
    }, 1);
    const first = c.broker();
    await c.runtime.restartSupervisor('broker-sup');
    expect(first.isUp).toBe(false);
    await until('re-subscribed', async () => c.brokers.length === 2 && (await c.stats()).resubscribes === 1 && (await c.stats()).attached);
    // A consume racing the restart may fail once: the retry waits on the clock.
    c.clock.advance(100);
    await until('running', () => c.node().stats.state === 'running');
    expect(c.broker().stats().queues.urgent.consumers).toBe(1);
    await c.publish('on the new broker');
    await until('consumed', () => got.length === 1);
    await c.runtime.stop();
  });
});

describe('consumers supervisor', () => {
  it('runs one supervisor and one required consumer per priority queue, each consuming its queue', async () => {
    const t = testRuntime();
    let broker!: MemoryBroker;
    const got: string[] = [];
    await t.runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({ name: 'broker', readiness: 'required', behaviour: brokerActor({ mode: 'custom', create: ({ clock }) => (broker = new MemoryBroker({ clock })) }) }),
          consumersSupervisor({
            prefetch: { urgent: 4, high_priority: 3, normal: 2, low_priority: 1 },
            handle: async (d) => {
              got.push(`${d.queue}:${d.body.toString()}`);
              return 'ack';
            },
          }),
        ],
      }),
    );
    const sup = find(t.runtime.tree(), 'consumers')!;
    expect(sup.children!.map((c) => [c.name, c.children!.map((a) => [a.name, a.readiness])])).toEqual([
      ['consumer-urgent', [['consumer.urgent', 'required']]],
      ['consumer-high_priority', [['consumer.high_priority', 'required']]],
      ['consumer-normal', [['consumer.normal', 'required']]],
      ['consumer-low_priority', [['consumer.low_priority', 'required']]],
    ]);
    await until('all four subscribed', async () => {
      for (const q of ['urgent', 'high_priority', 'normal', 'low_priority'] as const) if ((await broker.consumerCount(q)) !== 1) return false;
      return true;
    });
    const statsOf = (q: string) => t.runtime.ask<ConsumerMessage, 'stats'>(`consumer.${q}`, 'stats', {}, 1_000);
    expect(((await statsOf('normal')) as ConsumerStats).prefetch).toBe(2);
    for (const q of ['urgent', 'high_priority', 'normal', 'low_priority'] as const) await broker.publish(q, Buffer.from('m'), { messageId: q });
    await until('each consumed', () => got.length === 4);
    expect(got.sort()).toEqual(['high_priority:m', 'low_priority:m', 'normal:m', 'urgent:m']);
    // A consumer is ready once its actor has handled its own 'attached' message, which may come after the broker
    // already counts the subscription (and delivers through it): readiness is awaited, not sampled.
    await until('worker ready', () => t.runtime.readiness('worker').ready);
    await t.runtime.stop();
  });
});
