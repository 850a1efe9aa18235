// The product's tree of one process, by role: what runs, in which order, under which policy.
import { brokerActor } from '../../actors/resources/broker-actor.js';
import { controlActor } from '../../actors/system/control-actor.js';
import { CONTROL_PLANE, controlPlaneActor } from '../../actors/system/control-plane-actor.js';
import { createControlBus } from '../../src/adapters/broker/control-bus-factory.js';
import { nodeRegistryActor } from '../../actors/system/node-registry-actor.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import type { QueueConsumersReport } from '../../src/contracts/supervision.js';
import type { Asker } from '../../src/actor-behaviour.js';
import { pausedQueuesFrom } from '../../src/dispatch/queue-pauses.js';
import { resources } from '../../src/resources.js';
import { actor, supervisor, type SupervisorSpec } from '../child-spec.js';
import { executeControlCommand } from './control-commands.js';
import { dispatchChildren, runsDispatch } from './dispatch.js';
import { objectsChild } from './objects.js';
import { resourcesSupervisor } from './resources.js';
import { servicesSupervisor } from './services.js';
import { sourcesSupervisor } from './sources.js';
import type { TreeContext } from './tree-context.js';

export const ROOT = 'root';

/**
 * Consumers of each priority queue, from the broker; bounded so a health probe never waits on RabbitMQ. A paused
 * queue (queue_pauses) has no consumer on purpose: it is reported `paused`, not flagged. While the pauses cannot be
 * read (PostgreSQL away) no queue counts as paused.
 */
async function queueConsumers(asker: Asker): Promise<QueueConsumersReport> {
  const [counts, paused] = await Promise.all([
    asker.ask(asker.ref<BrokerMessage>('broker'), 'consumer-counts', {}, 500),
    pausedQueuesFrom(() => resources(asker, 500).db())
      .pausedQueues()
      .catch(() => new Set<string>()),
  ]);
  const queues = counts.queues.map((q) => ({ ...q, paused: paused.has(q.queue), flagged: q.flagged && !paused.has(q.queue) }));
  return { state: 'known', queues, flagged: queues.filter((q) => q.flagged).map((q) => q.queue), paused: queues.filter((q) => q.paused).map((q) => q.queue) };
}

export function rootSpec(ctx: TreeContext): SupervisorSpec {
  const { config, asker, registry } = ctx;
  const topology = { retryTiersMs: config.broker.retryTiersMs, deliveryLimit: config.broker.deliveryLimit, quorumGroupSize: config.broker.quorumGroupSize };
  return supervisor({
    name: ROOT,
    intensity: { maxRestarts: 3, withinMs: 60_000 },
    children: [
      actor({
        name: 'control',
        readiness: 'required',
        behaviour: controlActor(registry, config.role, ROOT, config.role === 'worker' ? {} : { queueConsumers: () => queueConsumers(asker) }),
      }),
      resourcesSupervisor(ctx),
      // Right after the resources: every role heartbeats; it stops after everything that holds batch claims.
      actor({
        name: 'node-registry',
        readiness: 'optional',
        behaviour: nodeRegistryActor({
          identity: ctx.identity,
          heartbeatMs: config.registry.heartbeatMs,
          staleAfterMs: config.registry.staleAfterMs,
          shuttingDown: () => registry().stopping,
        }),
      }),
      // Every role: this node on the control bus (its own connection, so a broker restart leaves on-call a way in).
      // Connections are named <purpose>-<role>:<node id>: RabbitMQ's management UI shows which process holds which.
      actor({
        name: CONTROL_PLANE,
        readiness: 'optional',
        behaviour: controlPlaneActor({
          identity: ctx.identity,
          bus: () => createControlBus({ urls: config.broker.urls, firstNode: config.broker.firstNode, connectionName: `samaconso-control-${config.role}:${ctx.identity.nodeId}`, log: ctx.log.child({ part: 'control-bus' }) }),
          keepSnapshots: config.role !== 'worker',
          snapshotMs: config.control.snapshotMs,
          commandTimeoutMs: config.control.commandTimeoutMs,
          rootName: ROOT,
          tree: () => registry().tree(),
          execute: (command) => executeControlCommand(command, asker, config, config.control.commandTimeoutMs),
        }),
      }),
      // Beside `resources`, not under it: a PostgreSQL restart (rest-for-one there) must not close the broker.
      actor({
        name: 'broker',
        // The API accepts jobs through the outbox while RabbitMQ is down; a worker cannot work without it.
        readiness: config.role === 'worker' ? 'required' : 'optional',
        behaviour: brokerActor(
          config.broker.urls.length > 0
            ? { mode: 'amqp', urls: config.broker.urls, firstNode: config.broker.firstNode, connectionName: `samaconso-${config.role}:${ctx.identity.nodeId}`, topology }
            : { mode: 'memory', topology },
        ),
      }),
      // Beside `resources`, not under it (rest-for-one there): a PostgreSQL restart must not cut uploads in flight.
      ...(config.role !== 'worker' ? [objectsChild(ctx)] : []),
      ...(runsDispatch(config) ? dispatchChildren(ctx) : []),
      // The utility's databases, for the services that read them; a source down never makes the process unready.
      ...(config.role !== 'worker' ? [sourcesSupervisor(ctx), servicesSupervisor(ctx)] : []),
    ],
  });
}
