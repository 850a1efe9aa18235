// The order RabbitMQ nodes are tried in and the delays between attempts (node-rotation.ts), on a manual clock.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { NodeRotation, nodeAddress, withHeartbeat } from '../../../src/adapters/broker/node-rotation.js';
import type { BackoffPolicy } from '../../../src/backoff.js';

const NODES = ['amqp://u:p@a:5672/v', 'amqp://u:p@b:5673/v', 'amqps://u:p@c/v'];
const POLICY: BackoffPolicy = { minMs: 200, maxMs: 1_000, factor: 2, jitter: 0, resetAfterMs: 5_000 };

describe('node rotation', () => {
  it('starts at the configured node and goes round the list in order', () => {
    const clock = new ManualClock();
    const r = new NodeRotation(NODES, POLICY, { first: 1 });
    expect(r.address).toBe('b:5673');
    const tried = [r.address];
    for (let i = 0; i < 5; i++) tried.push(r.failed(clock.now()).address);
    expect(tried).toEqual(['b:5673', 'c:5671', 'a:5672', 'b:5673', 'c:5671', 'a:5672']);
  });

  it('starts at a random node when none is configured', () => {
    expect(new NodeRotation(NODES, POLICY, { random: () => 0 }).address).toBe('a:5672');
    expect(new NodeRotation(NODES, POLICY, { random: () => 0.5 }).address).toBe('b:5673');
    expect(new NodeRotation(NODES, POLICY, { random: () => 0.99 }).address).toBe('c:5671');
    expect(() => new NodeRotation(NODES, POLICY, { first: 3 })).toThrow(RangeError);
    expect(() => new NodeRotation([], POLICY)).toThrow(RangeError);
  });

  it('moves to the next node at once inside a round, and waits the backoff only after a full round failed, growing per round', () => {
    const clock = new ManualClock();
    const r = new NodeRotation(NODES, POLICY, { first: 0 });
    const delays = Array.from({ length: 12 }, () => r.failed(clock.now()).delayMs);
    // Rounds of three: 0, 0, then the backoff: 200, 400, 800, then the cap.
    expect(delays).toEqual([0, 0, 200, 0, 0, 400, 0, 0, 800, 0, 0, 1_000]);
  });

  it('with one node, waits the backoff after every failure (one node is a full round)', () => {
    const clock = new ManualClock();
    const r = new NodeRotation([NODES[0]!], POLICY);
    expect([1, 2, 3].map(() => r.failed(clock.now()).delayMs)).toEqual([200, 400, 800]);
  });

  it('starts counting again after a connection that held resetAfterMs, not after one dropped sooner', () => {
    const clock = new ManualClock();
    const r = new NodeRotation(NODES.slice(0, 2), POLICY, { first: 0 });
    expect(r.failed(clock.now())).toMatchObject({ address: 'b:5673', delayMs: 0, failures: 1 });
    r.connected(clock.now());
    clock.advance(1_000); // dropped after a second: still the same streak, the round is over
    expect(r.failed(clock.now())).toMatchObject({ address: 'a:5672', delayMs: 200, failures: 2 });
    r.connected(clock.now());
    clock.advance(5_000); // held: the next loss starts a new streak, and moves on at once
    expect(r.failed(clock.now())).toMatchObject({ address: 'b:5673', delayMs: 0, failures: 1 });
    expect(r.failed(clock.now())).toMatchObject({ address: 'a:5672', delayMs: 200, failures: 2 });
  });

  it('jitters the backoff with the injected random number', () => {
    const clock = new ManualClock();
    const r = new NodeRotation([NODES[0]!], { ...POLICY, jitter: 0.5 }, { random: () => 0.5 });
    expect(r.failed(clock.now()).delayMs).toBe(250);
  });

  it('names a node by host and port, the port defaulted by the scheme, never with its credentials', () => {
    expect(NODES.map(nodeAddress)).toEqual(['a:5672', 'b:5673', 'c:5671']);
    expect(nodeAddress('amqp://guest:secret@10.0.0.2')).toBe('10.0.0.2:5672');
    expect(withHeartbeat('amqp://u:p@a/v', 10)).toBe('amqp://u:p@a/v?heartbeat=10');
    expect(withHeartbeat('amqp://u:p@a/v?heartbeat=3', 10)).toBe('amqp://u:p@a/v?heartbeat=3');
  });
});
