// The control actor: the on-call view of this process (tree, readiness) and restarts of one supervisor.
import type { ControlMessage } from '../../src/contracts/control-messages.js';
import type { QueueConsumersReport, SupervisionRegistry } from '../../src/contracts/supervision.js';
import { ValidationError } from '../../src/errors/app-error.js';
import type { ActorBehaviour } from '../../src/actor-behaviour.js';

export interface ControlOptions {
  /** API instances: how each priority queue is consumed, from the broker (absent on a worker). */
  readonly queueConsumers?: () => Promise<QueueConsumersReport>;
}

const UNKNOWN_QUEUES: QueueConsumersReport = { state: 'unknown', queues: [], flagged: [], paused: [] };

export function controlActor(registry: () => SupervisionRegistry, role: string, rootName: string, options: ControlOptions = {}): () => ActorBehaviour<null, ControlMessage> {
  return () => ({
    init: () => null,
    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'tree':
          msg.replyTo.ok(registry().tree());
          return s;
        case 'readiness': {
          const report = registry().readiness(role);
          const { replyTo } = msg;
          if (!options.queueConsumers) replyTo.ok(report);
          else
            options.queueConsumers().then(
              (queues) => replyTo.ok({ ...report, queues }),
              () => replyTo.ok({ ...report, queues: UNKNOWN_QUEUES }),
            );
          return s;
        }
        case 'restart-supervisor': {
          if (msg.name === rootName) {
            // Restarting the root would stop this very actor mid-reply; the process manager restarts processes.
            msg.replyTo.fail(new ValidationError([{ path: 'params.name', message: `the root supervisor cannot be restarted; restart the process` }]));
            return s;
          }
          ctx.log.warn({ supervisor: msg.name, reason: msg.reason }, 'on-call restart of a supervisor');
          const { replyTo, name } = msg;
          registry()
            .restartSupervisor(name)
            .then(
              () => replyTo.ok({ restarted: name }),
              (e: Error) => replyTo.fail(e),
            );
          return s;
        }
      }
    },
  });
}
