// The control-plane actor (every role): this node's end of the control bus — it publishes the node's tree on an
// interval, runs the commands addressed to it, and (API nodes) answers the cluster view and sends on-call commands.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { ControlBus } from '../../src/adapters/broker/control-bus.js';
import { ControlPlane } from '../../src/cluster/control-plane.js';
import { ControlService } from '../../src/cluster/control-service.js';
import type { NodeIdentity } from '../../src/cluster/node-registry.js';
import type { ControlCommand, ControlPlaneMessage } from '../../src/contracts/control-plane-messages.js';
import type { Reply } from '../../src/contracts/reply.js';
import type { TreeNode } from '../../src/contracts/supervision.js';
import { errorMessage } from '../../src/errors/app-error.js';
import { resources } from '../../src/resources.js';

export const CONTROL_PLANE = 'control-plane';

export interface ControlPlaneActorOptions {
  readonly identity: NodeIdentity;
  /** A fresh bus for each incarnation of the actor (closed by its cleanup). */
  readonly bus: () => ControlBus;
  /** Keep every node's snapshots (API nodes, which serve the cluster view). */
  readonly keepSnapshots: boolean;
  readonly snapshotMs: number;
  readonly commandTimeoutMs: number;
  readonly rootName: string;
  /** This node's tree now. */
  readonly tree: () => TreeNode;
  /** Runs a command addressed to this node (given the actor's context, to ask the parts it concerns). */
  readonly execute: (command: ControlCommand, ctx: ActorContext<Msg>) => Promise<Record<string, unknown>>;
}

type Msg = ControlPlaneMessage | { type: 'bus'; raw: unknown } | { type: 'publish' };

interface State {
  readonly bus: ControlBus;
  readonly plane: ControlPlane;
  readonly service: ControlService;
  /** The next snapshot, on the real clock: ages and liveness are wall time (a test's manual clock must not stall them). */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Wall time, for the same reason as the timer. */
const wallClock = (): number => Date.now();

export function controlPlaneActor(options: ControlPlaneActorOptions): () => ActorBehaviour<State, Msg> {
  const settle = <T>(work: Promise<T>, replyTo: Reply<T>): void => {
    work.then(
      (value) => replyTo.ok(value),
      (error: Error) => replyTo.fail(error),
    );
  };
  return () => ({
    init(ctx) {
      const bus = options.bus();
      const plane = new ControlPlane({
        bus,
        identity: options.identity,
        log: ctx.log,
        keepSnapshots: options.keepSnapshots,
        commandTimeoutMs: options.commandTimeoutMs,
        now: wallClock,
        tree: options.tree,
        execute: (command) => options.execute(command, ctx),
      });
      const service = new ControlService({
        plane,
        db: () => resources(ctx).db(), rootName: options.rootName,
        commandTimeoutMs: options.commandTimeoutMs,
        now: wallClock,
        self: { node: options.identity.nodeId, incarnation: options.identity.incarnation },
      });
      // Through the mailbox: one message at a time, like everything else this actor does.
      plane.listen((raw) => ctx.self.tell({ type: 'bus', raw })).then(
        () => ctx.self.tell({ type: 'publish' }),
        (error: unknown) => ctx.log.warn({ err: error }, 'control plane: not listening on the control bus'),
      );
      return { bus, plane, service, timer: undefined };
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'bus':
          s.plane.receive(msg.raw);
          return s;
        case 'publish': {
          clearTimeout(s.timer);
          s.timer = setTimeout(() => ctx.self.tell({ type: 'publish' }), options.snapshotMs);
          s.timer.unref();
          if (!s.bus.isUp) {
            ctx.setStatus('backing-off', 'the control bus is not connected to RabbitMQ: no snapshot sent, no command reaches this node');
            return s;
          }
          ctx.setStatus('running');
          s.plane.publishSnapshot().catch((error: unknown) => ctx.setStatus('backing-off', `snapshot not sent: ${errorMessage(error)}`, error));
          return s;
        }
        case 'nodes':
          settle(s.service.nodes(), msg.replyTo);
          return s;
        case 'trees':
          settle(s.service.trees(msg.node), msg.replyTo);
          return s;
        case 'restart-supervisor':
          settle(s.service.restart(msg.caller, msg.name, msg.reason, msg.node), msg.replyTo);
          return s;
        case 'send':
          settle(s.service.send(msg.to, msg.command), msg.replyTo);
          return s;
      }
    },

    async cleanup(s) {
      clearTimeout(s.timer);
      s.plane.close();
      await s.bus.close();
    },
  });
}
