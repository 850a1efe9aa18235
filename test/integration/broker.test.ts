// The AMQP broker and the broker actor against the real RabbitMQ (ops/services.sh), in a vhost of this file.
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { brokerActor } from '../../actors/resources/broker-actor.js';
import { AmqpBroker, type AmqpBrokerOptions } from '../../src/adapters/broker/amqp-broker.js';
import { deadLetterInfo, type Broker, type BrokerEvent, type Delivery, type Outcome } from '../../src/adapters/broker/broker.js';
import { buildTopology, declareTopology, type BrokerQueue } from '../../src/adapters/broker/topology.js';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import { SystemClock } from '../../src/clock.js';
import type { PayloadOf } from '../../src/contracts/reply.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import { silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { freePort } from '../support/free-port.js';
import { createTestVhost, rabbitmqctl, type TestVhost } from '../support/rabbitmq.js';
import { waitFor } from '../support/wait.js';

const TOPOLOGY = { retryTiersMs: [50, 1_000], deliveryLimit: 2 };
/** Bound on anything the real broker does here (a connection, a confirm, a delivery). */
const BOUND_MS = 10_000;

let vhost: TestVhost;
/** A plain amqplib connection to look at the queues; tests that cut the vhost's connections cut it too. */
let inspect: amqp.Channel;
let inspector: amqp.ChannelModel | undefined;
const brokers: AmqpBroker[] = [];

async function openInspector(): Promise<void> {
  const conn = await amqp.connect(vhost.url, { clientProperties: { connection_name: 'inspector' } });
  conn.on('error', () => undefined);
  conn.on('close', () => {
    if (inspector === conn) inspector = undefined;
  });
  inspect = await conn.createChannel();
  inspector = conn;
}

beforeAll(async () => {
  vhost = await createTestVhost();
  await openInspector();
});

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  if (!inspector) await openInspector();
  // Leave the queues empty for the next test.
  for (const q of [...PRIORITY_QUEUES, 'dead_letters']) await inspect.purgeQueue(q);
});

afterAll(async () => {
  await inspector?.close().catch(() => undefined);
  await vhost?.delete();
});

/** An AmqpBroker on this file's vhost, up. */
async function openBroker(options: Partial<AmqpBrokerOptions> = {}): Promise<AmqpBroker> {
  const broker = new AmqpBroker({ urls: [vhost.url], topology: TOPOLOGY, connectionName: 'broker-test', reconnect: { minMs: 100, maxMs: 1_000 }, ...options });
  brokers.push(broker);
  await nextEvent(broker, 'up', () => broker.isUp);
  return broker;
}

/** Resolves on the broker's next event of that type (or at once when `already` holds); fails after BOUND_MS. */
function nextEvent<T extends BrokerEvent['type']>(broker: Broker, type: T, already: () => boolean = () => false): Promise<Extract<BrokerEvent, { type: T }>> {
  if (already()) return Promise.resolve({ type } as Extract<BrokerEvent, { type: T }>);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event within ${BOUND_MS} ms`));
    }, BOUND_MS);
    const off = broker.on((e) => {
      if (e.type === type) {
        clearTimeout(timer);
        off();
        resolve(e as Extract<BrokerEvent, { type: T }>);
      }
    });
  });
}

/** Collects deliveries; `until(n)` resolves once n arrived in all (bounded). */
function collector(outcome: Outcome | ((d: Delivery) => Outcome) = 'ack') {
  const got: Delivery[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const handler = async (d: Delivery): Promise<Outcome> => {
    got.push(d);
    for (const w of [...waiters])
      if (got.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    return typeof outcome === 'function' ? outcome(d) : outcome;
  };
  const until = (n: number, timeoutMs = BOUND_MS) =>
    got.length >= n
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${got.length} of ${n} deliveries within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({
            n,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
  return { got, handler, until };
}

/** Messages ready in the queue (not counting those delivered and unacked). */
const ready = async (queue: BrokerQueue) => (await inspect.checkQueue(queue)).messageCount;

async function unacked(queue: string): Promise<number | undefined> {
  const rows = JSON.parse(await rabbitmqctl(['list_queues', '-p', vhost.name, 'name', 'messages_unacknowledged', '--formatter', 'json'])) as Array<{
    name: string;
    messages_unacknowledged: number;
  }>;
  return rows.find((r) => r.name === queue)?.messages_unacknowledged;
}

describe('RabbitMQ topology', () => {
  it('is declared idempotently: on every connect, and twice more by hand, as durable quorum queues', async () => {
    await openBroker();
    await openBroker(); // a second process declaring the same topology
    const topology = buildTopology(TOPOLOGY);
    await declareTopology(inspect, topology);
    await declareTopology(inspect, topology);
    const rows = JSON.parse(await rabbitmqctl(['list_queues', '-p', vhost.name, 'name', 'type', 'durable', 'arguments', '--formatter', 'json'])) as Array<{
      name: string;
      type: string;
      durable: boolean;
      arguments: unknown;
    }>;
    const names = rows.map((r) => r.name).sort();
    expect(names).toEqual(topology.declarations.map((d) => d.name).sort());
    expect(names).toContain('retry.urgent.50');
    expect(rows.every((r) => r.type === 'quorum' && r.durable)).toBe(true);
    const urgent = JSON.stringify(rows.find((r) => r.name === 'urgent')!.arguments);
    expect(urgent).toContain('x-delivery-limit');
    expect(urgent).toContain('at-least-once');
  });
});

describe('AMQP broker', () => {
  it('publishes on confirm, delivers with id and headers, and forgets the message once acked', async () => {
    const broker = await openBroker();
    await broker.publish('urgent', Buffer.from('{"tokens":3}'), { messageId: 'job-1:0', headers: { job: 'job-1' }, priority: 9 });
    // Confirmed means stored: it is in the queue before any consumer exists.
    expect(await ready('urgent')).toBe(1);
    const box = collector('ack');
    await broker.consume('urgent', { prefetch: 4 }, box.handler);
    await box.until(1);
    expect(box.got[0]).toMatchObject({ queue: 'urgent', messageId: 'job-1:0', headers: { job: 'job-1' }, priority: 9, redelivered: false, deliveryCount: 0, attempt: 0 });
    expect(box.got[0]!.body.toString()).toBe('{"tokens":3}');
    await waitFor('the ack to reach the broker', async () => (await ready('urgent')) === 0 && (await unacked('urgent')) === 0);
  });

  it('holds no more unacked deliveries per consumer than its prefetch', async () => {
    const broker = await openBroker();
    for (let i = 0; i < 5; i++) await broker.publish('high_priority', Buffer.from(String(i)), { messageId: `m${i}` });
    const held: Array<(o: Outcome) => void> = [];
    const box = collector();
    await broker.consume('high_priority', { prefetch: 2 }, (d) => {
      void box.handler(d);
      return new Promise<Outcome>((resolve) => held.push(resolve));
    });
    await box.until(2);
    // The other three stay ready in the queue while two are held.
    expect(await ready('high_priority')).toBe(3);
    expect(box.got).toHaveLength(2);
    held[0]!('ack');
    await box.until(3);
    expect(await ready('high_priority')).toBe(2);
    expect(box.got).toHaveLength(3);
    // Drain: ack one at a time until all five went through.
    for (let acked = 1; acked < 5; acked++) {
      await box.until(acked + 1);
      held[acked]!('ack');
    }
  });

  it('dead-letters a rejected message with reason `rejected`', async () => {
    const broker = await openBroker();
    await broker.consume('low_priority', { prefetch: 1 }, collector('reject').handler);
    const dead = collector('ack');
    await broker.consume('dead_letters', { prefetch: 10 }, dead.handler);
    await broker.publish('low_priority', Buffer.from('bad payload'), { messageId: 'poison-1', headers: { job: 'j1' } });
    await dead.until(1);
    expect(dead.got[0]).toMatchObject({ messageId: 'poison-1', headers: { job: 'j1' } });
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'low_priority', reason: 'rejected', attempts: 0 });
  });

  it('dead-letters a message nacked past the delivery limit with reason `delivery_limit`, after limit + 1 deliveries', async () => {
    const broker = await openBroker();
    const box = collector('nack-requeue');
    await broker.consume('normal', { prefetch: 1 }, box.handler);
    const dead = collector('ack');
    await broker.consume('dead_letters', { prefetch: 10 }, dead.handler);
    await broker.publish('normal', Buffer.from('crashes every worker'), { messageId: 'poison-2' });
    await dead.until(1);
    expect(box.got.map((d) => [d.deliveryCount, d.redelivered])).toEqual([
      [0, false],
      [1, true],
      [2, true],
    ]);
    expect(dead.got[0]!.messageId).toBe('poison-2');
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'normal', reason: 'delivery_limit', attempts: 0 });
  });

  it('counts a handler that throws as a nack', async () => {
    const broker = await openBroker();
    let calls = 0;
    await broker.consume('urgent', { prefetch: 1 }, async () => {
      calls++;
      throw new Error('handler bug');
    });
    const dead = collector('ack');
    await broker.consume('dead_letters', { prefetch: 10 }, dead.handler);
    await broker.publish('urgent', Buffer.from('x'), { messageId: 'thrower' });
    await dead.until(1);
    expect(calls).toBe(TOPOLOGY.deliveryLimit + 1);
    expect(deadLetterInfo(dead.got[0]!.headers).reason).toBe('delivery_limit');
  });

  it('dead-letters on the application`s word with the reason and attempt count', async () => {
    const broker = await openBroker();
    const dead = collector('ack');
    await broker.consume('dead_letters', { prefetch: 10 }, dead.handler);
    await broker.deadLetter('high_priority', Buffer.from('gave up'), 'max attempts (UNAVAILABLE)', 4, { messageId: 'job:7', headers: { job: 'job' } });
    await dead.until(1);
    expect(dead.got[0]).toMatchObject({ messageId: 'job:7', headers: { job: 'job' } });
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'high_priority', reason: 'max attempts (UNAVAILABLE)', attempts: 4 });
  });

  it('brings a retry back to its queue through the 50 ms tier, with its attempt and reason', async () => {
    const broker = await openBroker();
    const box = collector('ack');
    await broker.consume('urgent', { prefetch: 1 }, box.handler);
    const sent = Date.now();
    await broker.retry('urgent', Buffer.from('again'), { messageId: 'r1', headers: { job: 'j' }, attempt: 1, delayMs: 20, reason: 'UNAVAILABLE' });
    await box.until(1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(45);
    expect(box.got[0]).toMatchObject({ queue: 'urgent', messageId: 'r1', attempt: 1, headers: { job: 'j', 'x-retry-reason': 'UNAVAILABLE' } });
    expect(box.got[0]!.body.toString()).toBe('again');
    const death = (box.got[0]!.headers['x-death'] as Array<Record<string, unknown>>)[0];
    expect(death).toMatchObject({ queue: 'retry.urgent.50', reason: 'expired' });
  });

  it('keeps the retry attempt when a retried message dies later', async () => {
    const broker = await openBroker();
    await broker.consume('normal', { prefetch: 1 }, collector('reject').handler);
    const dead = collector('ack');
    await broker.consume('dead_letters', { prefetch: 10 }, dead.handler);
    await broker.retry('normal', Buffer.from('x'), { messageId: 'r2', attempt: 3, delayMs: 50, reason: 'INTERNAL' });
    await dead.until(1);
    expect(deadLetterInfo(dead.got[0]!.headers)).toEqual({ queue: 'normal', reason: 'rejected', attempts: 3 });
  });

  it('reports consumer counts across processes, without paused or cancelled consumers', async () => {
    const a = await openBroker();
    const b = await openBroker();
    expect(await a.consumerCount('normal')).toBe(0);
    const h1 = await a.consume('normal', { prefetch: 1 }, collector().handler);
    await b.consume('normal', { prefetch: 1 }, collector().handler);
    expect(await a.consumerCount('normal')).toBe(2);
    expect(await b.consumerCount('normal')).toBe(2);
    await h1.pause();
    expect(h1.paused).toBe(true);
    expect(await b.consumerCount('normal')).toBe(1);
    await h1.resume();
    expect(await b.consumerCount('normal')).toBe(2);
    await h1.cancel();
    expect(await h1.ended).toEqual({ reason: 'cancelled' });
    expect(await b.consumerCount('normal')).toBe(1);
  });

  it('rejects a publish that no queue takes (BROKER_REJECTED) and one made while down (BROKER_UNAVAILABLE)', async () => {
    const broker = await openBroker({ reconnect: { minMs: 1_000, maxMs: 2_000 } });
    await inspect.deleteQueue('low_priority');
    await expect(broker.publish('low_priority', Buffer.from('x'), { messageId: 'nowhere' })).rejects.toMatchObject({ code: 'BROKER_REJECTED' });
    await declareTopology(inspect, buildTopology(TOPOLOGY));

    // Checked as soon as the down event comes, within the reconnect delay (rabbitmqctl itself takes longer to return).
    const whileDown = nextEvent(broker, 'down').then(() =>
      Promise.all([
        broker.publish('low_priority', Buffer.from('x'), { messageId: 'while-down' }).then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        ),
        broker.consumerCount('low_priority').then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        ),
      ]),
    );
    await vhost.closeConnections('publish while down');
    expect(await whileDown).toEqual(['BROKER_UNAVAILABLE', 'BROKER_UNAVAILABLE']);
    await nextEvent(broker, 'up', () => broker.isUp);
    await broker.publish('low_priority', Buffer.from('x'), { messageId: 'after' });
  });

  it('reports a broker it cannot reach as down with the reason and the next attempt, and keeps trying', async () => {
    const port = await freePort();
    const broker = new AmqpBroker({ urls: [`amqp://guest:guest@127.0.0.1:${port}/`], reconnect: { minMs: 20, maxMs: 40 } });
    brokers.push(broker);
    const downs: Array<Extract<BrokerEvent, { type: 'down' }>> = [];
    const twice = new Promise<void>((resolve) =>
      broker.on((e) => {
        if (e.type === 'down') downs.push(e);
        if (downs.length === 2) resolve();
      }),
    );
    await twice;
    expect(broker.isUp).toBe(false);
    expect(downs[0]!.reason).toMatch(/cannot connect to RabbitMQ at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(downs[0]!.retryInMs).toBeGreaterThanOrEqual(20);
    await expect(broker.publish('urgent', Buffer.from('x'), { messageId: 'x' })).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    // A consumer registered while down is kept for when the broker comes (here: never); closing ends it.
    const handle = await broker.consume('urgent', { prefetch: 1 }, async () => 'ack');
    await broker.close();
    expect(await handle.ended).toEqual({ reason: 'broker-closed' });
  });

  it('settles every publish when the connection is cut: resolved ones were stored, the others fail BROKER_UNAVAILABLE', async () => {
    const broker = await openBroker();
    let isDown = false;
    const down = nextEvent(broker, 'down').then(() => (isDown = true));
    const publishes: Array<{ id: string; result: Promise<string | undefined> }> = [];
    const cutting = vhost.closeConnections('cut while publishing');
    for (let i = 0; !isDown && i < 40_000; i++) {
      const id = `p${i}`;
      const result = broker.publish('normal', Buffer.from(id), { messageId: id }).then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
      publishes.push({ id, result });
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
    await cutting;
    await down;
    const results = await Promise.all(publishes.map((p) => p.result));
    const confirmed = publishes.filter((_, i) => results[i] === 'ok').map((p) => p.id);
    const failed = results.filter((r) => r !== 'ok');
    expect(confirmed.length).toBeGreaterThan(0);
    expect(new Set(failed)).toEqual(new Set(failed.length > 0 ? ['BROKER_UNAVAILABLE'] : []));

    await nextEvent(broker, 'up', () => broker.isUp);
    const stored = new Set<string>();
    await broker.consume('normal', { prefetch: 500 }, async (d) => {
      stored.add(d.messageId!);
      return 'ack';
    });
    await waitFor('every confirmed publish delivered', () => confirmed.every((id) => stored.has(id)), BOUND_MS * 3);
  });
});

describe('broker actor with RabbitMQ', () => {
  it('goes backing-off when the connection is killed, running again after the reconnect, and consumption resumes', async () => {
    const runtime = new Runtime({ clock: new SystemClock(), log: silentLogger() });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({
            name: 'broker',
            readiness: 'required',
            behaviour: brokerActor({ mode: 'amqp', urls: [vhost.url], topology: TOPOLOGY, connectionName: 'actor-test', reconnect: { minMs: 1_000, maxMs: 2_000 } }),
          }),
        ],
      }),
    );
    try {
      const ask = <T extends BrokerMessage['type']>(type: T) =>
        runtime.ask<BrokerMessage, T>('broker', type, {} as PayloadOf<Extract<BrokerMessage, { type: T }>>, BOUND_MS);
      const node = () => runtime.tree().children!.find((c) => c.name === 'broker')!;
      const broker = await ask('lend');
      await nextEvent(broker, 'up', () => broker.isUp);
      await ask('lend'); // the mailbox is FIFO: the up event told before is handled
      expect(node().stats.state).toBe('running');

      const box = collector('ack');
      await broker.consume('urgent', { prefetch: 2 }, box.handler);
      expect(await ask('consumer-counts')).toEqual({
        queues: [
          { queue: 'urgent', consumers: 1, flagged: false },
          { queue: 'high_priority', consumers: 0, flagged: true },
          { queue: 'normal', consumers: 0, flagged: true },
          { queue: 'low_priority', consumers: 0, flagged: true },
        ],
        flagged: ['high_priority', 'normal', 'low_priority'],
      });
      const publish = async (from: number, n: number) => {
        for (let i = from; i < from + n; i++) await broker.publish('urgent', Buffer.from(String(i)), { messageId: `u${i}` });
      };
      await publish(0, 10);
      await box.until(10);

      // Looked at as soon as the down event comes, within the reconnect delay (rabbitmqctl itself takes longer to return).
      const whileDown = nextEvent(broker, 'down').then(async (event) => {
        await ask('lend'); // the down event told before is handled
        const counts = await ask('consumer-counts').then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        );
        return { event, stats: node().stats, counts };
      });
      await vhost.closeConnections('broker restart (test)');
      const { event, stats, counts } = await whileDown;
      expect(event.reason).toContain('CONNECTION_FORCED');
      expect(stats.state).toBe('backing-off');
      expect(stats.detail).toContain('CONNECTION_FORCED');
      expect(counts).toBe('BROKER_UNAVAILABLE');

      await nextEvent(broker, 'up', () => broker.isUp);
      await ask('lend');
      expect(node().stats.state).toBe('running');
      // Re-subscribed once, not twice.
      expect((await ask('consumer-counts')).queues[0]).toEqual({ queue: 'urgent', consumers: 1, flagged: false });
      await publish(10, 10);
      await box.until(20);
      expect(new Set(box.got.map((d) => d.messageId)).size).toBe(20);
      expect(node().stats).toMatchObject({ crashes: 0, restarts: 0 });
    } finally {
      await runtime.stop();
    }
    expect(await vhost.connections()).not.toContain('actor-test'); // closed with the actor
  });
});
