// An API instance reports, from the broker, how each priority queue is consumed across the cluster and flags
// a queue nobody consumes — as information for alerts (on its ops port), never by turning itself unready.
import amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let vhost: Awaited<ReturnType<typeof createTestVhost>>;
let node: RunningNode;
let conn: amqp.ChannelModel | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  vhost = await createTestVhost();
  node = await startTestNode({ DATABASE_URL: db.url, AMQP_URL: vhost.url, ROLE: 'api' });
  await waitFor('broker up', () => node.runtime.readiness('test').parts.find((p) => p.name === 'broker')?.state === 'running');
});
afterAll(async () => {
  await conn?.close();
  await node?.stop();
  await vhost?.delete();
  await db?.drop();
});

type Report = { ready: boolean; queues: { state: string; flagged: string[]; queues: Array<{ queue: string; consumers: number }> } };
const readiness = async () => {
  const res = await fetch(`${node.opsUrl}/health/ready`);
  return { status: res.status, body: (await res.json()) as Report };
};

it('flags every queue nobody consumes while staying ready, and unflags one once a worker consumes it', async () => {
  // The first readings after start may miss the control actor's bound on a loaded machine (503, or the queue
  // report unknown): wait for one whole reading, then check what it says while every queue is flagged.
  const before = await waitFor('a whole readiness reading', async () => {
    const r = await readiness();
    return r.status === 200 && r.body.queues?.state === 'known' ? r : undefined;
  });
  expect(before.status).toBe(200);
  expect(before.body.queues).toMatchObject({ state: 'known' });
  expect([...before.body.queues.flagged].sort()).toEqual(['high_priority', 'low_priority', 'normal', 'urgent']);

  conn = await amqp.connect(vhost.url);
  const ch = await conn.createChannel();
  await ch.consume('urgent', () => undefined);
  const after = await waitFor('urgent consumed', async () => {
    const r = await readiness();
    return r.body.queues.flagged.includes('urgent') ? undefined : r;
  });
  expect(after.status).toBe(200);
  expect(after.body.queues.queues.find((q) => q.queue === 'urgent')?.consumers).toBe(1);
  expect([...after.body.queues.flagged].sort()).toEqual(['high_priority', 'low_priority', 'normal']);
});
