// The control actor: the on-call view of this process (tree, readiness) and restarts of one supervisor.
import type { ControlMessage } from '../src/contracts/control.js';
import type { SupervisionRegistry } from '../src/contracts/supervision.js';
import { ValidationError } from '../src/errors/app-error.js';
import type { ActorBehaviour } from '../src/actor-behaviour.js';

export function controlActor(registry: () => SupervisionRegistry, role: string, rootName: string): () => ActorBehaviour<null, ControlMessage> {
  return () => ({
    init: () => null,
    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'tree':
          msg.replyTo.ok(registry().tree());
          return s;
        case 'readiness':
          msg.replyTo.ok(registry().readiness(role));
          return s;
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
