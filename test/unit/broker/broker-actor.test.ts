import { describe, expect, it } from 'vitest';
import { brokerActor } from '../../../actors/resources/broker-actor.js';
import type { Broker } from '../../../src/adapters/broker/broker.js';
import type { Clock } from '../../../src/clock.js';
import { MemoryBroker } from '../../../src/adapters/broker/memory-broker.js';
import type { PayloadOf } from '../../../src/contracts/reply.js';
import type { BrokerMessage } from '../../../src/adapters/broker/broker-messages.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import { testRuntime } from '../../support/supervision.js';
import { SwitchableBroker } from '../../support/switchable-broker.js';


async function start(create: (env: { clock: Clock }) => Broker) {
  const t = testRuntime();
  await t.runtime.start(supervisor({ name: 'root', children: [actor({ name: 'broker', readiness: 'required', behaviour: brokerActor({ mode: 'custom', create }) })] }));
  const node = () => t.runtime.tree().children!.find((c) => c.name === 'broker')!;
  const ask = <T extends BrokerMessage['type']>(type: T) => t.runtime.ask<BrokerMessage, T>('broker', type, {} as PayloadOf<Extract<BrokerMessage, { type: T }>>, 1_000);
  return { ...t, node, ask };
}


describe('broker actor', () => {
  it('runs at once with the in-process broker and flags the queues nobody consumes', async () => {
    const { runtime, ask, node } = await start(({ clock }) => new MemoryBroker({ clock }));
    expect(node().stats.state).toBe('running');
    const broker = await ask('lend');
    expect(broker.kind).toBe('memory');
    await broker.consume('urgent', { prefetch: 1 }, async () => 'ack');
    await broker.consume('low_priority', { prefetch: 1 }, async () => 'ack');
    expect(await ask('consumer-counts')).toEqual({
      queues: [
        { queue: 'urgent', consumers: 1, flagged: false },
        { queue: 'high_priority', consumers: 0, flagged: true },
        { queue: 'normal', consumers: 0, flagged: true },
        { queue: 'low_priority', consumers: 1, flagged: false },
      ],
      flagged: ['high_priority', 'normal'],
    });
    await runtime.stop();
    expect(broker.isUp).toBe(false); // closed in cleanup
  });

  it('reports RabbitMQ away as backing-off with the reason, never as a crash, and running once it is back', async () => {
    let broker!: SwitchableBroker;
    const { runtime, ask, node } = await start(({ clock }) => (broker = new SwitchableBroker({ clock }, false)));
    expect(node().stats).toMatchObject({ state: 'backing-off', detail: 'connecting to RabbitMQ' });
    await expect(ask('consumer-counts')).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    // The handle is given out while down: its consumers subscribe when the broker is back.
    expect(await ask('lend')).toBe(broker);

    broker.set({ type: 'up' });
    await ask('lend'); // the mailbox is FIFO: the event told before is handled
    expect(node().stats.state).toBe('running');
    expect((await ask('consumer-counts')).flagged).toHaveLength(4);

    broker.set({ type: 'down', reason: 'connection to RabbitMQ closed: CONNECTION_FORCED', retryInMs: 200 });
    await ask('lend'); // the mailbox is FIFO: the event told before is handled
    expect(node().stats).toMatchObject({ state: 'backing-off', detail: 'RabbitMQ unreachable (connection to RabbitMQ closed: CONNECTION_FORCED); retrying in 200 ms' });
    broker.set({ type: 'up' });
    await ask('lend'); // the mailbox is FIFO: the event told before is handled
    expect(node().stats).toMatchObject({ state: 'running', crashes: 0, restarts: 0 });
    await runtime.stop();
  });

  it('names the node it is connected to while running, and the node it tries next while away', async () => {
    let broker!: SwitchableBroker;
    const { runtime, ask, node } = await start(({ clock }) => (broker = new SwitchableBroker({ clock }, false)));
    broker.set({ type: 'up', node: '10.0.0.1:5672' });
    await ask('lend'); // the mailbox is FIFO: the event told before is handled
    expect(node().stats).toMatchObject({ state: 'running', detail: 'connected to 10.0.0.1:5672' });
    expect(runtime.readiness('worker').parts.find((p) => p.name === 'broker')).toMatchObject({ ready: true, detail: 'connected to 10.0.0.1:5672' });
    broker.set({ type: 'down', reason: 'connection to RabbitMQ at 10.0.0.1:5672 closed', retryInMs: 0, next: '10.0.0.2:5672' });
    await ask('lend');
    expect(node().stats).toMatchObject({ state: 'backing-off', detail: 'RabbitMQ unreachable (connection to RabbitMQ at 10.0.0.1:5672 closed); trying 10.0.0.2:5672 in 0 ms' });
    broker.set({ type: 'up', node: '10.0.0.2:5672' });
    await ask('lend');
    expect(node().stats).toMatchObject({ state: 'running', detail: 'connected to 10.0.0.2:5672' });
    await runtime.stop();
  });

  it('ignores a down event overtaken by a reconnect', async () => {
    let broker!: SwitchableBroker;
    const { runtime, node, ask } = await start(({ clock }) => (broker = new SwitchableBroker({ clock }, false)));
    broker.set({ type: 'down', reason: 'blip' });
    broker.set({ type: 'up' });
    await ask('lend'); // the mailbox is FIFO: the event told before is handled
    expect(node().stats.state).toBe('running');
    await runtime.stop();
  });
});
