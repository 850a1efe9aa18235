// Pausing and resuming a priority queue: the table first (so the pause survives restarts and reaches consumers that
// start later), then `apply` tells the running consumers. `apply` is one function given by the composition root
// (src/node.ts): today this process's own consumers; the cluster control plane can make it "every node".
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { OnOperation, QueueOperation } from '../contracts/admin-operation.js';
import type { Caller } from '../contracts/caller.js';
import type { CommandResult } from '../contracts/control-plane-messages.js';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import type { QueuePauseAnswer } from '../contracts/queue-pauses-messages.js';
import { deletePause, pausedState, priorityQueueNamed, writePause } from './queue-pauses.js';

/** How the running consumers took it, as the route answers it. */
const answered = (a: { applied: readonly CommandResult[]; applyError?: string }): Pick<QueuePauseAnswer, 'applied' | 'applyError'> => ({
  applied: a.applied.map((r) => ({ node: r.node, outcome: r.outcome })),
  applyError: a.applyError ?? null,
});

export type { OnOperation, QueueOperation };

export interface QueuePauseDeps {
  readonly db: () => Promise<Queryable>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Makes the running consumers follow the table (they also read it at every start); resolves with each node's answer. */
  readonly apply: () => Promise<readonly CommandResult[]>;
  /** Records the operation (the operations audit); @defaultValue does nothing */
  readonly onOperation?: OnOperation;
}

export class QueuePauseService {
  constructor(private readonly deps: QueuePauseDeps) {}

  async pause(caller: Caller, name: string, reason: string): Promise<QueuePauseAnswer> {
    const queue = priorityQueueNamed(name);
    const at = new Date(this.deps.clock.now());
    const pause = await writePause(await this.deps.db(), queue, caller.userId, reason, at);
    // Recorded after it is applied, so the audit says how it ended on each node.
    const applied = await this.apply(queue);
    await this.record({ action: 'queue.pause', target: queue, actor: caller.userId, actorRole: caller.role, reason, at, ...applied });
    return { ...pausedState(pause), ...answered(applied) };
  }

  async resume(caller: Caller, name: string, reason: string): Promise<QueuePauseAnswer> {
    const queue = priorityQueueNamed(name);
    const at = new Date(this.deps.clock.now());
    await deletePause(await this.deps.db(), queue);
    const applied = await this.apply(queue);
    await this.record({ action: 'queue.resume', target: queue, actor: caller.userId, actorRole: caller.role, reason, at, ...applied });
    return { queue, paused: false, pausedAt: null, pausedBy: null, reason, ...answered(applied) };
  }

  private async record(operation: QueueOperation): Promise<void> {
    await this.deps.onOperation?.(operation);
  }

  /** The table is the record: consumers not told now (one restarting, another node) follow it when they start. */
  private async apply(queue: string): Promise<{ applied: readonly CommandResult[]; applyError?: string }> {
    try {
      const applied = await this.deps.apply();
      const missed = applied.filter((r) => r.outcome !== 'ok');
      if (missed.length > 0) this.deps.log.warn({ queue, missed }, 'queue pause stored; some nodes did not apply it now: they follow it at their next start');
      return { applied };
    } catch (error) {
      this.deps.log.warn({ err: error, queue }, `queue pause stored; applying it to the running consumers failed (${errorMessage(error)}): they follow it at their next start`);
      return { applied: [], applyError: errorMessage(error) };
    }
  }
}
