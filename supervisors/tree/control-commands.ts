// What a node does when the control plane commands it: restart one of its supervisors (through its control actor,
// which refuses the root), or make its consumers read the queue pauses again.
import type { Asker } from '../../src/actor-behaviour.js';
import type { Config } from '../../src/config.js';
import type { ControlCommand } from '../../src/contracts/control-plane-messages.js';
import type { ControlMessage } from '../../src/contracts/control-messages.js';
import { consumerName, type ConsumerMessage } from '../../src/dispatch/consumer-messages.js';
import { PRIORITY_QUEUES } from '../../src/domain/priority.js';
import { runsDispatch } from './dispatch.js';

/** Bound on one consumer's re-read of its pause (a PostgreSQL read). */
const APPLY_PAUSES_MS = 5_000;

/** Makes this process's consumers follow queue_pauses (each re-reads its queue's pause); none run here: nothing to do. */
export async function applyLocalQueuePauses(asker: Asker, config: Config): Promise<Record<string, unknown>> {
  if (!runsDispatch(config)) return { consumers: 0 };
  await Promise.all(PRIORITY_QUEUES.map((q) => asker.ask(asker.ref<ConsumerMessage>(consumerName(q)), 'apply-pauses', {}, APPLY_PAUSES_MS)));
  return { consumers: PRIORITY_QUEUES.length };
}

/** Runs one command on this node; resolves with what it did, rejects with the typed error of the part asked. */
export async function executeControlCommand(command: ControlCommand, asker: Asker, config: Config, restartDeadlineMs: number): Promise<Record<string, unknown>> {
  switch (command.type) {
    case 'restart-supervisor':
      return asker.ask(asker.ref<ControlMessage>('control'), 'restart-supervisor', { name: command.name, reason: command.reason }, restartDeadlineMs);
    case 'apply-queue-pauses':
      return applyLocalQueuePauses(asker, config);
  }
}
