// AMQP_URL as a list of nodes: the broker connection and the control bus fail over to the next node. Two private
// RabbitMQ nodes, each its own broker (not a cluster: this proves the adapter's failover, not replication). The
// witnesses are the nodes' own: `rabbitmqctl list_queues / list_consumers / list_connections` on B, and a message
// published to B and consumed there.
//
// The reconnect backoff is set to 60 s everywhere here: were the move to the next node to wait it out, every bound
// below (well under 60 s) would fail. The down events say it in numbers: the next node, tried in 0 ms.
//
// Shown failing against a deliberately broken product (applied locally, the file run, then reverted): the backoff
// waited before every attempt instead of after a full round — in src/adapters/broker/node-rotation.ts failed(),
// `const delayMs = backoffDelay(this.policy, Math.floor(round), this.random());` → both tests fail ("Test timed out"
// on the dead node first; "timed out waiting for the broker up on B").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerActor } from '../../actors/resources/broker-actor.js';
import { AmqpControlBus } from '../../src/adapters/broker/amqp-control-bus.js';
import type { BrokerEvent, Delivery } from '../../src/adapters/broker/broker.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import { nodeAddress } from '../../src/adapters/broker/node-rotation.js';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import { SystemClock } from '../../src/clock.js';
import type { PayloadOf } from '../../src/contracts/reply.js';
import { createLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { freePort } from '../support/free-port.js';
import { startTestNode } from '../support/node.js';
import { startPrivateRabbitmq, type PrivateRabbitmq } from '../support/private-rabbitmq.js';
import { connectionName } from '../support/rabbitmq.js';
import { createTestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const TOPOLOGY = { retryTiersMs: [50], deliveryLimit: 2 };
const LONG_BACKOFF = { minMs: 60_000, maxMs: 60_000 };
/** Bound on anything a node does here; well under LONG_BACKOFF. */
const BOUND_MS = 30_000;

let a: PrivateRabbitmq;
let b: PrivateRabbitmq;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startPrivateRabbitmq(), startPrivateRabbitmq()]);
}, 240_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await Promise.all([a?.destroy(), b?.destroy()]);
}, 120_000);

/** A broker actor on `urls` in a runtime of its own; its log lines, events, readiness part and the Broker. */
async function brokerOn(urls: string[], name: string) {
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  const runtime = new Runtime({ clock: new SystemClock(), log });
  await runtime.start(
    supervisor({
      name: 'root',
      children: [
        actor({
          name: 'broker',
          readiness: 'required',
          behaviour: brokerActor({ mode: 'amqp', urls, firstNode: 0, topology: TOPOLOGY, connectionName: name, reconnect: LONG_BACKOFF, confirmTimeoutMs: 120_000 }),
        }),
      ],
    }),
  );
  cleanups.push(() => runtime.stop());
  const broker = await runtime.ask<BrokerMessage, 'lend'>('broker', 'lend', {} as PayloadOf<Extract<BrokerMessage, { type: 'lend' }>>, BOUND_MS);
  const events: BrokerEvent[] = [];
  broker.on((e) => events.push(e));
  const part = () => runtime.readiness('worker').parts.find((p) => p.name === 'broker')!;
  return { runtime, broker, events, logs, part };
}

/** rabbitmqctl's table rows (tab-separated, no header) of one node. */
async function rows(node: PrivateRabbitmq, args: string[]): Promise<string[][]> {
  const out = await node.ctl(['-q', '--no-table-headers', ...args]);
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
}

/** The client-given names of the connections open on one node. */
async function connections(node: PrivateRabbitmq): Promise<string[]> {
  const out = await node.ctl(['-q', 'list_connections', 'client_properties', '--formatter', 'json']);
  return (JSON.parse(out || '[]') as Array<{ client_properties: unknown }>).map((r) => connectionName(r.client_properties));
}

describe('AMQP_URL with several nodes', () => {
  it('skips a dead node at once and connects to the live one, naming it in the readiness detail', async () => {
    const dead = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    const { broker, logs, part } = await brokerOn([dead, a.url], 'failover-dead-first');
    await waitFor('the broker part running', () => part().state === 'running', BOUND_MS);
    expect(part().detail).toBe(`connected to ${nodeAddress(a.url)}`);
    expect(broker.isUp).toBe(true);
    // The dead node was tried first (firstNode 0) and refused; the live one was tried next with no delay.
    const down = logs.find((l) => l['msg'] === 'RabbitMQ is down');
    expect(down).toMatchObject({ next: nodeAddress(a.url), retryInMs: 0 });
    expect(down!['reason']).toContain(`cannot connect to RabbitMQ at ${nodeAddress(dead)}`);
    expect(logs.find((l) => l['node'] === nodeAddress(a.url))?.['msg']).toBe(`RabbitMQ is up: connected to ${nodeAddress(a.url)}`);
    // Never a password in the log.
    expect(JSON.stringify(logs)).not.toContain('guest:guest');
    // The node's own view: this connection is on A.
    expect(await connections(a)).toContain('failover-dead-first');
  });

  it('moves the connection and the control bus from A to B when A stops: topology, consumers and subscriptions there; the publish in flight rejected', async () => {
    const { broker, events, part } = await brokerOn([a.url, b.url], 'failover-work');
    await waitFor('the broker up on A', () => part().detail === `connected to ${nodeAddress(a.url)}`, BOUND_MS);
    const bus = new AmqpControlBus({ urls: [a.url, b.url], firstNode: 0, connectionName: 'failover-control', reconnect: LONG_BACKOFF });
    cleanups.push(() => bus.close());
    const commands: unknown[] = [];
    await bus.listen({ nodeId: 'n1', snapshots: false }, (m) => commands.push(m));
    await waitFor('the control bus up', () => bus.isUp, BOUND_MS);

    const got: Delivery[] = [];
    await broker.consume('urgent', { prefetch: 5 }, async (d) => {
      got.push(d);
      return 'ack';
    });
    await broker.publish('urgent', Buffer.from('on A'), { messageId: 'on-a' });
    await waitFor('the message on A consumed', () => got.some((d) => d.messageId === 'on-a'), BOUND_MS);
    expect(await connections(a)).toEqual(expect.arrayContaining(['failover-work', 'failover-control']));
    expect(await connections(b)).toEqual([]);

    // A publish whose confirm cannot come: A's memory alarm blocks publishing connections (RabbitMQ stops reading
    // from them), so the message is sent and never confirmed; it is on the wire when A stops.
    await a.ctl(['set_vm_memory_high_watermark', '0']);
    const inFlight = broker.publish('urgent', Buffer.from('in flight'), { messageId: 'in-flight' }).then(
      () => ({ ok: true as const }),
      (e: { code?: string; message?: string }) => ({ ok: false as const, code: e.code, message: e.message }),
    );
    await waitFor('the publish awaiting its confirm', () => broker.unconfirmed === 1, BOUND_MS);
    await a.stop();

    // Rejected as unconfirmed by the lost connection (not by the 120 s confirm timeout), never resolved.
    const settled = await inFlight;
    expect(settled).toMatchObject({ ok: false, code: 'BROKER_UNAVAILABLE' });
    expect(settled.ok ? '' : settled.message).toContain('connection to RabbitMQ lost before the confirm');

    await waitFor('the broker up on B', () => part().detail === `connected to ${nodeAddress(b.url)}`, BOUND_MS);
    const lost = events.find((e): e is Extract<BrokerEvent, { type: 'down' }> => e.type === 'down');
    expect(lost).toMatchObject({ next: nodeAddress(b.url), retryInMs: 0 });
    expect(lost!.reason).toContain(`connection to RabbitMQ at ${nodeAddress(a.url)} closed`);

    // B's own view: the topology declared there, the consumer subscribed there, both connections there.
    const queues = (await rows(b, ['list_queues', 'name', 'type'])).map(([name, type]) => `${name} ${type}`);
    expect(queues).toEqual(expect.arrayContaining([...PRIORITY_QUEUES, 'dead_letters', 'retry.urgent.50'].map((q) => `${q} quorum`)));
    // One consumer on urgent (re-subscribed once), and the control bus's own exclusive queue, once the bus is on B.
    await waitFor('the control bus subscribed on B', async () => (await rows(b, ['list_consumers', 'queue_name'])).length === 2, BOUND_MS);
    const consumers = (await rows(b, ['list_consumers', 'queue_name'])).flat().sort();
    expect(consumers).toEqual([expect.stringMatching(/^amq\.gen-/), 'urgent']);
    await waitFor('the control bus on B', async () => (await connections(b)).includes('failover-control'), BOUND_MS);
    expect(await connections(b)).toContain('failover-work');

    // Work goes on through B: a message published there is consumed; a control command reaches the listener.
    await broker.publish('urgent', Buffer.from('on B'), { messageId: 'on-b' });
    await waitFor('the message on B consumed', () => got.some((d) => d.messageId === 'on-b'), BOUND_MS);
    await waitFor('the control bus channel on B', () => bus.isUp, BOUND_MS);
    await bus.send('n1', { command: 'ping' });
    await waitFor('the control command received through B', () => commands.length > 0, BOUND_MS);
    expect(commands).toEqual([{ command: 'ping' }]);
    // The in-flight message never reached a consumer: it was not silently delivered either.
    expect(got.map((d) => d.messageId)).toEqual(['on-a', 'on-b']);
  }, 180_000);

  it('takes the list from AMQP_URL in a whole node: its broker and control bus connect past the dead first node', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const dead = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    // The topology B holds already (the test above): the same tiers and limit, or the declaration is refused.
    const topology = { BROKER_RETRY_TIERS_MS: TOPOLOGY.retryTiersMs.join(','), BROKER_DELIVERY_LIMIT: String(TOPOLOGY.deliveryLimit) };
    const node = await startTestNode({ DATABASE_URL: db.url, AMQP_URL: `${dead},${b.url}`, BROKER_FIRST_NODE: '0', ROLE: 'api', ...topology });
    cleanups.push(() => node.stop());
    const part = () => node.runtime.readiness('api').parts.find((p) => p.name === 'broker');
    await waitFor('the node broker up', () => part()?.state === 'running', BOUND_MS);
    expect(part()!.detail).toBe(`connected to ${nodeAddress(b.url)}`);
    await waitFor('both connections of the node on B', async () => {
      const names = await connections(b);
      return names.some((n) => n.startsWith('samaconso-api:')) && names.some((n) => n.startsWith('samaconso-control-api:'));
    }, BOUND_MS);
  }, 120_000);
});
