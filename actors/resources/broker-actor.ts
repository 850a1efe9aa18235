// The broker resource actor: owns the Broker — RabbitMQ (amqplib) or, without AMQP_URL, the in-process
// demo broker — reports RabbitMQ away as state (backing-off, with the reason and the next attempt), never as
// a crash, and the node it is connected to as the running state's detail; hands the Broker out and answers each
// priority queue's consumer count for readiness.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { BackoffPolicy } from '../../src/backoff.js';
import { AmqpBroker } from '../../src/adapters/broker/amqp-broker.js';
import { BrokerUnavailableError, type Broker, type BrokerEvent } from '../../src/adapters/broker/broker.js';
import { MemoryBroker } from '../../src/adapters/broker/memory-broker.js';
import type { TopologyOptions } from '../../src/adapters/broker/topology.js';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import type { BrokerMessage, ConsumerCounts } from '../../src/adapters/broker/broker-messages.js';
import type { Clock } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import { errorMessage, toError } from '../../src/errors/app-error.js';

export type BrokerActorOptions =
  | {
      readonly mode: 'amqp';
      /** The nodes (one, or a cluster's); the connection moves on to the next when one is lost. */
      readonly urls: readonly string[];
      /** Position of the node tried first. @defaultValue a random one */
      readonly firstNode?: number | undefined;
      readonly topology?: TopologyOptions;
      /** Shown by RabbitMQ for this process's connection. @defaultValue 'samaconso' */
      readonly connectionName?: string;
      readonly reconnect?: Partial<BackoffPolicy>;
      readonly heartbeatSeconds?: number;
      readonly confirmTimeoutMs?: number;
    }
  /** In process: a demo for `npm start` without AMQP_URL; messages are lost when the process stops. */
  | { readonly mode: 'memory'; readonly topology?: TopologyOptions }
  /** Any Broker (tests). */
  | { readonly mode: 'custom'; readonly create: (env: { clock: Clock; log: Logger; random: () => number }) => Broker };

// `epoch` tells this incarnation's broker events from those of the broker it replaced.
type Internal = { type: 'broker-event'; epoch: symbol; event: BrokerEvent };
type Msg = BrokerMessage | Internal;

interface State {
  readonly epoch: symbol;
  readonly broker: Broker;
  readonly off: () => void;
}

function createBroker(options: BrokerActorOptions, ctx: ActorContext<Msg>): Broker {
  switch (options.mode) {
    case 'amqp':
      return new AmqpBroker({
        urls: options.urls,
        firstNode: options.firstNode,
        clock: ctx.clock,
        log: ctx.log,
        ...(options.topology ? { topology: options.topology } : {}),
        ...(options.connectionName ? { connectionName: options.connectionName } : {}),
        ...(options.reconnect ? { reconnect: options.reconnect } : {}),
        ...(options.heartbeatSeconds !== undefined ? { heartbeatSeconds: options.heartbeatSeconds } : {}),
        ...(options.confirmTimeoutMs !== undefined ? { confirmTimeoutMs: options.confirmTimeoutMs } : {}),
      });
    case 'memory':
      ctx.log.warn('in-process broker (no AMQP_URL): a demo only, queued messages are lost when the process stops');
      return new MemoryBroker({ clock: ctx.clock, log: ctx.log, ...(options.topology ? { topology: options.topology } : {}) });
    case 'custom':
      return options.create({ clock: ctx.clock, log: ctx.log, random: Math.random });
  }
}

export function brokerActor(options: BrokerActorOptions): () => ActorBehaviour<State, Msg> {
  return () => ({
    init(ctx) {
      const epoch = Symbol('broker incarnation');
      const broker = createBroker(options, ctx);
      // Events arrive on amqplib's callbacks: they only become messages, handled in order by this actor.
      const off = broker.on((event) => ctx.self.tell({ type: 'broker-event', epoch, event }));
      if (broker.isUp) ctx.setStatus('running');
      else ctx.setStatus('backing-off', 'connecting to RabbitMQ');
      return { epoch, broker, off };
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'lend':
          msg.replyTo.ok(s.broker);
          return s;
        case 'queue-depths': {
          if (!s.broker.isUp) {
            msg.replyTo.fail(new BrokerUnavailableError('RabbitMQ is unavailable: queue depths unknown'));
            return s;
          }
          const reply = msg.replyTo;
          const broker = s.broker;
          Promise.all(PRIORITY_QUEUES.map(async (queue) => ({ queue, ...(await broker.queueDepth(queue)) }))).then(
            (depths) => reply.ok(depths),
            (error: unknown) => reply.fail(toError(error)),
          );
          return s;
        }
        case 'consumer-counts': {
          if (!s.broker.isUp) {
            msg.replyTo.fail(new BrokerUnavailableError('RabbitMQ is unavailable: consumer counts unknown'));
            return s;
          }
          const reply = msg.replyTo;
          Promise.all(PRIORITY_QUEUES.map(async (queue) => ({ queue, consumers: await s.broker.consumerCount(queue) }))).then(
            (counts) => {
              const result: ConsumerCounts = {
                queues: counts.map((c) => ({ ...c, flagged: c.consumers === 0 })),
                flagged: counts.filter((c) => c.consumers === 0).map((c) => c.queue),
              };
              reply.ok(result);
            },
            (error: unknown) => reply.fail(toError(error)),
          );
          return s;
        }
        case 'broker-event': {
          if (msg.epoch !== s.epoch) return s; // from the broker of the incarnation this one replaced
          const event = msg.event;
          if (event.type === 'up') {
            ctx.log.info({ node: event.node }, 'broker is up');
            ctx.setStatus('running', event.node ? `connected to ${event.node}` : undefined);
          } else if (s.broker.isUp) {
            // a stale `down` overtaken by a reconnect
          } else {
            const next = event.retryInMs === undefined ? '' : event.next ? `; trying ${event.next} in ${event.retryInMs} ms` : `; retrying in ${event.retryInMs} ms`;
            ctx.setStatus('backing-off', `RabbitMQ unreachable (${event.reason})${next}`, new BrokerUnavailableError(event.reason));
          }
          return s;
        }
      }
    },

    async cleanup(s, ctx) {
      s.off();
      await s.broker.close().catch((error: unknown) => ctx.log.warn({ err: error }, `closing the broker failed: ${errorMessage(error)}`));
    },
  });
}
