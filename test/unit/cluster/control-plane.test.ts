// The control plane's addressing, correlation and timeouts, on the in-process bus (its own hub per test): what each
// node ran is counted by the node itself, independently of the answers the asker got.
import { describe, expect, it } from 'vitest';
import { ControlHub, MemoryControlBus } from '../../../src/adapters/broker/memory-control-bus.js';
import { ControlPlane } from '../../../src/cluster/control-plane.js';
import { newNodeIdentity } from '../../../src/cluster/node-registry.js';
import type { ControlCommand } from '../../../src/contracts/control-plane-messages.js';
import type { TreeNode } from '../../../src/contracts/supervision.js';
import { AppError } from '../../../src/errors/app-error.js';
import { silentLogger } from '../../../src/logger.js';
import { waitFor } from '../../support/wait.js';

const TREE: TreeNode = { path: 'root', name: 'root', kind: 'supervisor', stats: { state: 'running', mailboxDepth: 0, handled: 0, crashes: 0, restarts: 0 } };

class NotHereError extends AppError {
  readonly code = 'SUPERVISOR_NOT_FOUND';
}

interface TestNode {
  readonly plane: ControlPlane;
  readonly incarnation: string;
  readonly ran: ControlCommand[];
  readonly bus: MemoryControlBus;
}

async function node(hub: ControlHub, nodeId: string, options: { keepSnapshots?: boolean; listen?: boolean; fail?: boolean } = {}): Promise<TestNode> {
  const identity = newNodeIdentity(nodeId, options.keepSnapshots ? 'api' : 'worker');
  const bus = new MemoryControlBus(hub);
  const ran: ControlCommand[] = [];
  const plane = new ControlPlane({
    bus,
    identity,
    log: silentLogger(),
    keepSnapshots: options.keepSnapshots ?? false,
    commandTimeoutMs: 300,
    now: () => Date.now(),
    tree: () => TREE,
    execute: async (command) => {
      ran.push(command);
      if (options.fail) throw new NotHereError('no running supervisor named consumers');
      return { done: command.type };
    },
  });
  if (options.listen !== false) await plane.listen((raw) => plane.receive(raw));
  return { plane, incarnation: identity.incarnation, ran, bus };
}

const RESTART: ControlCommand = { type: 'restart-supervisor', name: 'consumers', reason: 'stuck' };

describe('control plane', () => {
  it('runs a command on the node addressed only, and brings its answer back', async () => {
    const hub = new ControlHub();
    const [api, w1, w2] = [await node(hub, 'api', { keepSnapshots: true }), await node(hub, 'w1'), await node(hub, 'w2')];
    const results = await api.plane.send([{ node: 'w1', incarnation: w1.incarnation }], RESTART);
    expect(results).toEqual([{ node: 'w1', outcome: 'ok', result: { done: 'restart-supervisor' } }]);
    expect(w1.ran).toEqual([RESTART]);
    expect(w2.ran).toEqual([]);
    expect(api.ran).toEqual([]);
  });

  it('leaves a command alone on another incarnation under the same node id', async () => {
    const hub = new ControlHub();
    const api = await node(hub, 'api', { keepSnapshots: true });
    const [current, twin] = [await node(hub, 'w1'), await node(hub, 'w1')];
    const results = await api.plane.send([{ node: 'w1', incarnation: current.incarnation }], RESTART);
    expect(results[0]!.outcome).toBe('ok');
    expect(current.ran).toHaveLength(1);
    expect(twin.ran).toHaveLength(0);
  });

  it('names a silent node as timed out, and keeps the answers of those that did answer', async () => {
    const hub = new ControlHub();
    const api = await node(hub, 'api', { keepSnapshots: true });
    const w1 = await node(hub, 'w1');
    const silent = await node(hub, 'w2', { listen: false });
    const results = await api.plane.send(
      [
        { node: 'w1', incarnation: w1.incarnation },
        { node: 'w2', incarnation: silent.incarnation },
      ],
      RESTART,
    );
    expect(results).toEqual([
      expect.objectContaining({ node: 'w1', outcome: 'ok' }),
      { node: 'w2', outcome: 'timeout', error: { code: 'NODE_TIMEOUT', message: 'node w2 did not answer within 300 ms' } },
    ]);
  });

  it('answers a failure with the typed error’s code', async () => {
    const hub = new ControlHub();
    const api = await node(hub, 'api', { keepSnapshots: true });
    const w1 = await node(hub, 'w1', { fail: true });
    expect(await api.plane.send([{ node: 'w1', incarnation: w1.incarnation }], RESTART)).toEqual([
      { node: 'w1', outcome: 'failed', error: { code: 'SUPERVISOR_NOT_FOUND', message: 'no running supervisor named consumers' } },
    ]);
  });

  it('runs a command delivered twice once, and drops what is not a control envelope', async () => {
    const hub = new ControlHub();
    const w1 = await node(hub, 'w1');
    const sender = new MemoryControlBus(hub);
    const envelope = { kind: 'command', id: 'c-1', from: 'api', to: 'w1', incarnation: w1.incarnation, command: RESTART };
    await sender.send('w1', envelope);
    await sender.send('w1', envelope);
    await sender.send('w1', { kind: 'command', id: 'c-2', from: 'api', to: 'w1', command: { type: 'format-disk' } });
    await sender.send('w1', 'not even an object');
    // Delivered in order: once this one ran, every earlier message was handled.
    const last: ControlCommand = { type: 'apply-queue-pauses' };
    await sender.send('w1', { kind: 'command', id: 'c-3', from: 'api', to: 'w1', command: last });
    await waitFor('the last command ran', () => w1.ran.length > 0 && w1.ran.at(-1)?.type === last.type, 2_000);
    expect(w1.ran).toEqual([RESTART, last]);
  });

  it('keeps snapshots by incarnation on the nodes that keep them, and forgets those no longer alive', async () => {
    const hub = new ControlHub();
    const api = await node(hub, 'api', { keepSnapshots: true });
    const w1 = await node(hub, 'w1');
    await w1.plane.publishSnapshot();
    await api.plane.publishSnapshot();
    const kept = await waitFor('the worker’s snapshot kept', () => api.plane.snapshotOf(w1.incarnation), 2_000);
    expect(kept.snapshot).toMatchObject({ node: 'w1', role: 'worker', tree: TREE });
    expect(api.plane.snapshotOf(api.incarnation)).toBeDefined();
    expect(w1.plane.snapshotOf(api.incarnation)).toBeUndefined();
    api.plane.forgetExcept(new Set([api.incarnation]));
    expect(api.plane.snapshotOf(w1.incarnation)).toBeUndefined();
  });

  it('fails a node at once when the bus cannot send', async () => {
    const hub = new ControlHub();
    const api = await node(hub, 'api', { keepSnapshots: true });
    await api.bus.close();
    const [result] = await api.plane.send([{ node: 'w1', incarnation: 'x' }], RESTART);
    // `failed`, not `timeout`: the asker knew at the send.
    expect(result).toMatchObject({ node: 'w1', outcome: 'failed', error: { code: 'BROKER_UNAVAILABLE' } });
  });
});
