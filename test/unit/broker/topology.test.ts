import { describe, expect, it } from 'vitest';
import { buildTopology, declareTopology, existingGroupSize, retryTierFor, type DeclaringChannel } from '../../../src/adapters/broker/topology.js';

describe('broker topology', () => {
  it('declares the four priority queues as quorum queues with a delivery limit and at-least-once dead-lettering', () => {
    const t = buildTopology();
    expect(t.retryTiersMs).toEqual([1_000, 10_000, 60_000]);
    expect(t.deliveryLimit).toBe(5);
    for (const queue of ['urgent', 'high_priority', 'normal', 'low_priority']) {
      expect(t.declarations.find((d) => d.name === queue)?.arguments).toEqual({
        'x-queue-type': 'quorum',
        'x-delivery-limit': 5,
        'x-dead-letter-exchange': 'dispatch.dead-letter',
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      });
      expect(t.bindings).toContainEqual({ queue, exchange: 'dispatch', routingKey: queue });
    }
    expect(t.bindings).toContainEqual({ queue: 'dead_letters', exchange: 'dispatch.dead-letter', routingKey: '' });
  });

  it('gives each priority queue one retry queue per tier that dead-letters back to it', () => {
    const t = buildTopology({ retryTiersMs: [60_000, 50, 50, 1_000], deliveryLimit: 2 });
    expect(t.retryTiersMs).toEqual([50, 1_000, 60_000]);
    expect(t.retryQueues).toHaveLength(12);
    expect(t.declarations.find((d) => d.name === 'retry.urgent.50')?.arguments).toEqual({
      'x-queue-type': 'quorum',
      'x-message-ttl': 50,
      'x-dead-letter-exchange': 'dispatch',
      'x-dead-letter-routing-key': 'urgent',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
    expect(t.bindings).toContainEqual({ queue: 'retry.low_priority.1000', exchange: 'dispatch.retry', routingKey: 'retry.low_priority.1000' });
  });

  it('picks the smallest tier >= the delay, the largest beyond them all', () => {
    const t = buildTopology({ retryTiersMs: [50, 1_000] });
    expect([0, 1, 50, 51, 1_000, 5_000].map((d) => retryTierFor(t, d))).toEqual([50, 50, 50, 1_000, 1_000, 1_000]);
  });

  it('refuses tiers and limits RabbitMQ would not take', () => {
    expect(() => buildTopology({ retryTiersMs: [] })).toThrow(RangeError);
    expect(() => buildTopology({ retryTiersMs: [0] })).toThrow(RangeError);
    expect(() => buildTopology({ retryTiersMs: [1.5] })).toThrow(RangeError);
    expect(() => buildTopology({ deliveryLimit: -1 })).toThrow(RangeError);
    expect(() => buildTopology({ quorumGroupSize: 0 })).toThrow(RangeError);
  });

  it('sets the initial group size on every queue when configured, and leaves it to RabbitMQ otherwise', () => {
    const sized = buildTopology({ retryTiersMs: [50], quorumGroupSize: 3 });
    expect(sized.declarations).toHaveLength(9);
    expect(sized.declarations.every((d) => d.arguments['x-quorum-initial-group-size'] === 3 && d.arguments['x-queue-type'] === 'quorum')).toBe(true);
    expect(buildTopology().declarations.some((d) => 'x-quorum-initial-group-size' in d.arguments)).toBe(false);
  });

  it("reads the existing group size from RabbitMQ 3.10's refusal, and nothing from other refusals", () => {
    const refusal = (detail: string) => new Error(`Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-quorum-initial-group-size' for queue 'urgent' in vhost '/': ${detail}"`);
    expect(existingGroupSize(refusal("received the value '3' of type 'byte' but current is none"))).toEqual({ existing: undefined });
    expect(existingGroupSize(refusal("received none but current is the value '1' of type 'byte'"))).toEqual({ existing: 1 });
    expect(existingGroupSize(refusal("received '3' but current is '1'"))).toEqual({ existing: 1 });
    expect(existingGroupSize(new Error("PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit' for queue 'urgent' in vhost '/': received '3' but current is '5'"))).toBeUndefined();
  });

  it('declares a queue refused for its group size alone again, on a new channel, with the size it has', async () => {
    const calls: string[] = [];
    const kept: unknown[] = [];
    const channel = (name: string): DeclaringChannel => ({
      assertExchange: async () => undefined,
      assertQueue: async (queue, o) => {
        const size = o?.arguments?.['x-quorum-initial-group-size'];
        calls.push(`${name} ${queue} ${size ?? 'none'}`);
        if (queue === 'urgent' && size !== undefined) throw new Error(`PRECONDITION_FAILED - inequivalent arg 'x-quorum-initial-group-size' for queue 'urgent' in vhost '/': received '${size}' but current is none`);
      },
      bindQueue: async (q) => void calls.push(`${name} bind ${q}`),
    });
    let opened = 0;
    const last = await declareTopology(channel('ch0'), buildTopology({ retryTiersMs: [50], quorumGroupSize: 3 }), {
      reopen: async () => channel(`ch${++opened}`),
      onGroupSizeKept: (...args) => kept.push(args),
    });
    expect(calls.slice(0, 3)).toEqual(['ch0 urgent 3', 'ch1 urgent none', 'ch1 retry.urgent.50 3']);
    expect(kept).toEqual([['urgent', undefined, 3]]);
    expect(opened).toBe(1);
    expect(calls.at(-1)).toBe('ch1 bind dead_letters');
    expect(last).toBeDefined();
    // Without a way to open a new channel, the refusal stands.
    await expect(declareTopology(channel('solo'), buildTopology({ quorumGroupSize: 3 }))).rejects.toThrow(/inequivalent arg 'x-quorum-initial-group-size'/);
  });

  it('declares exchanges, then queues, then bindings, all durable', async () => {
    const calls: string[] = [];
    const channel: DeclaringChannel = {
      assertExchange: async (name, type, o) => void calls.push(`exchange ${name} ${type} ${o?.durable}`),
      assertQueue: async (name, o) => void calls.push(`queue ${name} ${o?.durable}`),
      bindQueue: async (q, e, k) => void calls.push(`bind ${q} ${e} ${k}`),
    };
    await declareTopology(channel, buildTopology({ retryTiersMs: [50] }));
    expect(calls.slice(0, 3)).toEqual(['exchange dispatch direct true', 'exchange dispatch.retry direct true', 'exchange dispatch.dead-letter fanout true']);
    expect(calls.filter((c) => c.startsWith('queue'))).toHaveLength(9);
    expect(calls.filter((c) => c.startsWith('queue')).every((c) => c.endsWith(' true'))).toBe(true);
    expect(calls.at(-1)).toBe('bind dead_letters dispatch.dead-letter ');
  });
});
