// The worker's four queue consumers against the real RabbitMQ (ops/services.sh), in a vhost of this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerActor } from '../../actors/resources/broker-actor.js';
import type { Broker, Delivery } from '../../src/adapters/broker/broker.js';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import { SystemClock } from '../../src/clock.js';
import type { BrokerMessage, ConsumerCounts } from '../../src/adapters/broker/broker-messages.js';
import { consumerName, type ConsumerMessage } from '../../src/dispatch/consumer-messages.js';
import type { TreeNode } from '../../src/contracts/supervision.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { consumersSupervisor } from '../../supervisors/tree/consumers.js';
import { Runtime } from '../../supervisors/runtime.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { waitFor } from '../support/wait.js';

const TOPOLOGY = { retryTiersMs: [50, 1_000], deliveryLimit: 2 };

let vhost: TestVhost;
beforeAll(async () => {
  vhost = await createTestVhost();
});
afterAll(async () => {
  await vhost?.delete();
});

function find(node: TreeNode, name: string): TreeNode | undefined {
  if (node.name === name) return node;
  for (const c of node.children ?? []) {
    const f = find(c, name);
    if (f) return f;
  }
  return undefined;
}

describe('queue consumers on RabbitMQ', () => {
  it('attaches one consumer per queue, reports backing-off while the connection is cut, then consumes again', async () => {
    const runtime = new Runtime({ clock: new SystemClock(), log: silentLogger() });
    const got: string[] = [];
    const handle = async (d: Delivery) => {
      got.push(`${d.queue}:${d.body.toString()}`);
      return 'ack' as const;
    };
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({
            name: 'broker',
            readiness: 'required',
            behaviour: brokerActor({ mode: 'amqp', urls: [vhost.url], topology: TOPOLOGY, connectionName: 'consumers-test', reconnect: { minMs: 300, maxMs: 1_000 } }),
          }),
          consumersSupervisor({ prefetch: { urgent: 4, high_priority: 4, normal: 2, low_priority: 1 }, handle, drainTimeoutMs: 5_000 }),
        ],
      }),
    );
    try {
      const brokerAsk = <T extends BrokerMessage['type']>(type: T) => runtime.ask<BrokerMessage, T>('broker', type, {} as never, 5_000);
      const state = (q: string) => find(runtime.tree(), consumerName(q as never))!.stats;
      const allRunning = () => PRIORITY_QUEUES.every((q) => state(q).state === 'running');

      await waitFor('four consumers running', allRunning);
      const counts = await waitFor('a consumer on each queue', async () => {
        const c: ConsumerCounts | undefined = await brokerAsk('consumer-counts').catch(() => undefined);
        return c && c.flagged.length === 0 ? c : undefined;
      });
      expect(counts.queues.map((q) => [q.queue, q.consumers])).toEqual(PRIORITY_QUEUES.map((q) => [q, 1]));
      expect(runtime.readiness('worker')).toMatchObject({ ready: true });

      const broker: Broker = await brokerAsk('lend');
      for (const q of PRIORITY_QUEUES) await broker.publish(q, Buffer.from('before'), { messageId: `${q}-before` });
      await waitFor('consumed before the cut', () => got.length === 4);

      // Looked at as soon as the down event comes (the consumers' listeners were registered first, so
      // their broker-event is in their mailboxes before the stats query).
      const whileDown = new Promise<string[]>((resolve) => {
        const off = broker.on((e) => {
          if (e.type !== 'down') return;
          off();
          void Promise.all(PRIORITY_QUEUES.map((q) => runtime.ask<ConsumerMessage, 'stats'>(consumerName(q), 'stats', {}, 5_000))).then(() =>
            resolve(PRIORITY_QUEUES.map((q) => state(q).state)),
          );
        });
      });
      await vhost.closeConnections('broker restart (test)');
      expect(await whileDown).toEqual(['backing-off', 'backing-off', 'backing-off', 'backing-off']);
      expect(state('urgent').detail).toContain('RabbitMQ unreachable');

      await waitFor('running again', allRunning);
      await waitFor('re-subscribed on each queue', async () => {
        const c = await brokerAsk('consumer-counts').catch(() => undefined);
        return c !== undefined && c.queues.every((q) => q.consumers === 1);
      });
      for (const q of PRIORITY_QUEUES) await broker.publish(q, Buffer.from('after'), { messageId: `${q}-after` });
      await waitFor('consumed after the reconnect', () => got.filter((g) => g.endsWith(':after')).length === 4);
      for (const q of PRIORITY_QUEUES) expect(find(runtime.tree(), consumerName(q))!.stats).toMatchObject({ crashes: 0, restarts: 0 });
    } finally {
      await runtime.stop();
    }
  }, 60_000);

  it('stops gracefully without a warning: no dead letter, no "subscription ended" per consumer', async () => {
    const lines: string[] = [];
    const runtime = new Runtime({ clock: new SystemClock(), log: createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } }) });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({ name: 'broker', readiness: 'required', behaviour: brokerActor({ mode: 'amqp', urls: [vhost.url], topology: TOPOLOGY, connectionName: 'consumers-stop-test' }) }),
          consumersSupervisor({ prefetch: { urgent: 4, high_priority: 4, normal: 2, low_priority: 1 }, handle: async () => 'ack' as const, drainTimeoutMs: 5_000 }),
        ],
      }),
    );
    await waitFor('all consuming', () => PRIORITY_QUEUES.every((q) => find(runtime.tree(), consumerName(q))!.stats.state === 'running'));
    expect(lines).toEqual([]);
    await runtime.stop();
    await new Promise((r) => setTimeout(r, 200)); // anything the stopped consumers' subscriptions still had to say
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([]);
  });
});
