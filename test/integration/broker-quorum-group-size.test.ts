// BROKER_QUORUM_GROUP_SIZE on the real RabbitMQ (the shared node, a vhost of this file): a node started with it
// declares every quorum queue with x-quorum-initial-group-size (read back with `rabbitmqctl list_queues name
// arguments`); RabbitMQ 3.10 refuses a re-declaration with another size (PRECONDITION_FAILED, its words pinned here);
// a process configured otherwise still connects and keeps the queues as they are (the size only matters at creation),
// while any other argument that differs still fails as before.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpBroker } from '../../src/adapters/broker/amqp-broker.js';
import type { BrokerEvent } from '../../src/adapters/broker/broker.js';
import { buildTopology, existingGroupSize } from '../../src/adapters/broker/topology.js';
import { createLogger } from '../../src/logger.js';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost, rabbitmqctl, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const BOUND_MS = 30_000;
let db: TestDatabase;
let vhost: TestVhost;
let node: RunningNode | undefined;
const brokers: AmqpBroker[] = [];

beforeAll(async () => {
  [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  await node?.stop();
  await vhost?.delete();
  await db?.drop();
}, 60_000);

/** The dispatch queues (the node's control bus has its own exclusive queue in the vhost too). */
const QUEUES = buildTopology({ retryTiersMs: [50, 100] }).declarations.map((d) => d.name);

/** Each dispatch queue of the vhost with its x-quorum-initial-group-size (undefined when it has none). */
async function groupSizes(): Promise<Map<string, unknown>> {
  const rows = JSON.parse(await rabbitmqctl(['list_queues', '-p', vhost.name, 'name', 'arguments', '--formatter', 'json'])) as Array<{
    name: string;
    arguments: Array<[string, string, unknown]>;
  }>;
  return new Map(rows.filter((r) => QUEUES.includes(r.name)).map((r) => [r.name, r.arguments.find(([k]) => k === 'x-quorum-initial-group-size')?.[2]]));
}

describe('quorum queue initial group size', () => {
  it("is refused by RabbitMQ 3.10 when a queue exists with another size, in words existingGroupSize reads", async () => {
    const conn = await amqp.connect(vhost.url);
    conn.on('error', () => undefined);
    try {
      const declare = async (queue: string, size: number | undefined) => {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        const args = { 'x-queue-type': 'quorum', ...(size !== undefined ? { 'x-quorum-initial-group-size': size } : {}) };
        return ch.assertQueue(queue, { durable: true, arguments: args }).then(
          () => ch.close().then(() => undefined),
          (e: unknown) => e,
        );
      };
      expect(await declare('probe-sized', 1)).toBeUndefined();
      expect(await declare('probe-sized', 1)).toBeUndefined(); // the same size: accepted
      const larger = await declare('probe-sized', 3);
      expect(String(larger)).toContain('PRECONDITION_FAILED');
      expect(existingGroupSize(larger)).toEqual({ existing: 1 });
      expect(existingGroupSize(await declare('probe-sized', undefined))).toEqual({ existing: 1 });
      expect(await declare('probe-unsized', undefined)).toBeUndefined();
      expect(existingGroupSize(await declare('probe-unsized', 3))).toEqual({ existing: undefined });
      const ch = await conn.createChannel();
      await ch.deleteQueue('probe-sized');
      await ch.deleteQueue('probe-unsized');
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it('declares every queue with BROKER_QUORUM_GROUP_SIZE; a process configured otherwise connects and keeps them', async () => {
    node = await startTestNode({ DATABASE_URL: db.url, AMQP_URL: vhost.url, ROLE: 'api', BROKER_QUORUM_GROUP_SIZE: '3', BROKER_RETRY_TIERS_MS: '50,100' });
    await waitFor('the broker up', () => node!.runtime.readiness('test').parts.find((p) => p.name === 'broker')?.state === 'running', BOUND_MS);
    const sized = await groupSizes();
    // Four priority queues, two retry queues each, the dead-letter queue.
    expect(sized.size).toBe(13);
    expect([...sized.values()].every((v) => v === 3)).toBe(true);

    // Another process without the setting (or with another size): up, told which queues kept their size.
    const logs: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
    const other = new AmqpBroker({ urls: [vhost.url], topology: { retryTiersMs: [50, 100], quorumGroupSize: 1 }, connectionName: 'group-size-1', log });
    brokers.push(other);
    await waitFor('the other broker up', () => other.isUp, BOUND_MS);
    const kept = logs.filter((l) => typeof l['msg'] === 'string' && (l['msg'] as string).includes('exists with another initial group size'));
    expect(kept.map((l) => l['queue']).sort()).toEqual([...sized.keys()].sort());
    expect(kept[0]).toMatchObject({ existing: 3, configured: 1 });
    expect([...(await groupSizes()).values()].every((v) => v === 3)).toBe(true);
    // It works there: a publish is confirmed.
    await other.publish('urgent', Buffer.from('x'), { messageId: 'after-kept' });

    // Any other argument that differs still fails as before: the connection never comes up.
    const downs: Array<Extract<BrokerEvent, { type: 'down' }>> = [];
    const strict = new AmqpBroker({ urls: [vhost.url], topology: { retryTiersMs: [50, 100], deliveryLimit: 9, quorumGroupSize: 3 }, reconnect: { minMs: 5_000, maxMs: 5_000 } });
    brokers.push(strict);
    strict.on((e) => void (e.type === 'down' && downs.push(e)));
    await waitFor('the delivery limit refused', () => downs.length > 0, BOUND_MS);
    expect(downs[0]!.reason).toMatch(/PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit'/);
    expect(strict.isUp).toBe(false);
  }, 120_000);
});
