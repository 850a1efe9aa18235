// Pausing and resuming a priority queue through the admin routes, on one node (role all) with its own database and
// RabbitMQ vhost, then with the in-process broker (embedded mode, no AMQP_URL): the paused queue's messages stay
// queued while the others flow, a restart keeps the pause, a resume drains it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/adapters/broker/broker.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import { consumerName, type ConsumerMessage, type ConsumerStats } from '../../src/dispatch/consumer-messages.js';
import type { PriorityQueue } from '../../src/domain/priority.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import { actorNode } from '../support/node.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const MODES = [
  { broker: 'RabbitMQ', env: {} },
  { broker: 'the in-process broker', env: { AMQP_URL: '' } },
] as const;

describe.each(MODES)('pausing a priority queue with $broker', ({ env }) => {
  let n: DispatchNode;
  beforeAll(async () => {
    n = await startDispatchNode({ env });
  }, 120_000);
  afterAll(async () => {
    await n?.stop();
  });

  const post = (token: string, path: string, body: unknown = { reason: 'FCM quota shared with a campaign' }) =>
    fetch(`${n.node.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const stats = (queue: PriorityQueue): Promise<ConsumerStats> => n.node.runtime.ask<ConsumerMessage, 'stats'>(consumerName(queue), 'stats', {}, 5_000);
  const state = (queue: PriorityQueue): string | undefined => actorNode(n.node, consumerName(queue))?.stats.state;
  const broker = (): Promise<Broker> => n.node.runtime.ask<BrokerMessage, 'lend'>('broker', 'lend', {}, 5_000);
  /** A message the dispatch handler settles one way or another: each consumer counts its deliveries. */
  const publish = async (queue: PriorityQueue, id: string) => (await broker()).publish(queue, Buffer.from('{"not":"a batch"}'), { messageId: id });

  interface QueueReport {
    queues: { queue: string; consumers: number; flagged: boolean; paused: boolean }[];
    flagged: string[];
    paused: string[];
  }
  const queueReport = async (): Promise<QueueReport> => ((await (await fetch(`${n.node.opsUrl}/health/ready`)).json()) as { queues: QueueReport }).queues;

    it('stops low_priority deliveries while urgent keeps flowing, keeps the pause over a consumers restart, and drains on resume', async () => {
      await waitFor('consumers running', () => state('low_priority') === 'running' && state('urgent') === 'running', 30_000);
      const res = await post(n.admin, '/admin/queues/low_priority/pause');
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ queue: 'low_priority', paused: true, reason: 'FCM quota shared with a campaign' });
      expect(typeof body['pausedAt']).toBe('string');
      expect(typeof body['pausedBy']).toBe('string');
      expect(state('low_priority')).toBe('paused');

      const lowBefore = (await stats('low_priority')).deliveries;
      const urgentBefore = (await stats('urgent')).deliveries;
      await publish('low_priority', 'pause-low-1');
      await publish('urgent', 'pause-urgent-1');
      await waitFor('urgent delivered', async () => (await stats('urgent')).deliveries > urgentBefore, 30_000);
      // low_priority was published first, on the same connection: had it been consumed it would be counted by now.
      await publish('urgent', 'pause-urgent-2');
      await waitFor('urgent delivered again', async () => (await stats('urgent')).deliveries > urgentBefore + 1, 30_000);
      expect((await stats('low_priority')).deliveries).toBe(lowBefore);

      // Readiness: the paused queue is reported paused, not as a queue nobody consumes.
      const report = await waitFor('report shows the pause', async () => {
        const r = await queueReport();
        return r.paused.includes('low_priority') ? r : undefined;
      });
      expect(report.flagged).not.toContain('low_priority');
      expect(report.queues.find((q) => q.queue === 'low_priority')).toMatchObject({ consumers: 0, flagged: false, paused: true });
      expect(n.node.runtime.readiness('test').ready).toBe(true);

      // The consumers start again: each reads its queue's pause before it subscribes.
      await n.node.runtime.restartSupervisor('consumers');
      await waitFor('urgent consumer back', () => state('urgent') === 'running', 30_000);
      await waitFor('low_priority consumer back, paused', () => state('low_priority') === 'paused', 30_000);
      await publish('urgent', 'pause-urgent-3');
      await waitFor('urgent delivered after the restart', async () => (await stats('urgent')).deliveries > 0, 30_000);
      expect((await stats('low_priority')).deliveries).toBe(0);
      expect((await stats('low_priority')).pausedReason).toBe('FCM quota shared with a campaign');

      const resumed = await post(n.admin, '/admin/queues/low_priority/resume', { reason: 'quota back' });
      expect(resumed.status).toBe(200);
      expect(await resumed.json()).toEqual({ queue: 'low_priority', paused: false, pausedAt: null, pausedBy: null, reason: 'quota back', applied: [expect.objectContaining({ outcome: 'ok' })], applyError: null });
      await waitFor('the waiting message delivered', async () => (await stats('low_priority')).deliveries > 0, 30_000);
      expect(state('low_priority')).toBe('running');
      const { rows } = await n.sql.query('SELECT queue FROM queue_pauses');
      expect(rows).toEqual([]);
    }, 120_000);

    it('answers 404 QUEUE_NOT_FOUND for a name that is not a priority queue', async () => {
      const res = await post(n.admin, '/admin/queues/bulk/pause');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'QUEUE_NOT_FOUND' });
      expect((await post(n.admin, '/admin/queues/dead_letter/resume')).status).toBe(404);
    });

    it('refuses customers and agents (403) and stores nothing', async () => {
      for (const role of ['customer', 'agent'] as const) {
        const res = await post(await mintToken({ role }), '/admin/queues/normal/pause');
        expect(res.status).toBe(403);
      }
      const { rows } = await n.sql.query("SELECT queue FROM queue_pauses WHERE queue = 'normal'");
      expect(rows).toEqual([]);
    });
});
