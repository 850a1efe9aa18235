// Pausing and resuming a priority queue: the table first (so the pause survives restarts and reaches consumers that
// start later), then `apply` tells the running consumers. `apply` is one function given by the composition root
// (src/node.ts): today this process's own consumers; the cluster control plane can make it "every node".
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { AdminOperation, OnOperation } from '../contracts/admin-operation.js';
import type { Caller } from '../contracts/caller.js';
import type { CommandResult } from '../contracts/control-plane-messages.js';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import { deletePause, pausedState, priorityQueueNamed, writePause, type QueuePauseState } from './queue-pauses.js';

/**
 * A queue pause or resume, for the operations audit (the one call site: `QueuePauseService.record`): the admin
 * operation with the caller's role and each node's answer.
 */
export type QueueOperation = AdminOperation & {
  readonly action: 'queue.pause' | 'queue.resume';
  readonly actorRole: string;
  /** Each node's answer to "read the pauses again" (none: applied in this process alone). */
  readonly applied: readonly CommandResult[];
  /** Why the pause stored could not be applied to the running consumers (they follow it at their next start). */
  readonly applyError?: string;
};

export type { OnOperation };

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

  async pause(caller: Caller, name: string, reason: string): Promise<QueuePauseState> {
    const queue = priorityQueueNamed(name);
    const at = new Date(this.deps.clock.now());
    const pause = await writePause(await this.deps.db(), queue, caller.userId, reason, at);
    // Recorded after it is applied, so the audit says how it ended on each node.
    await this.record({ action: 'queue.pause', target: queue, actor: caller.userId, actorRole: caller.role, reason, at, ...(await this.apply(queue)) });
    return pausedState(pause);
  }

  async resume(caller: Caller, name: string, reason: string): Promise<QueuePauseState> {
    const queue = priorityQueueNamed(name);
    const at = new Date(this.deps.clock.now());
    await deletePause(await this.deps.db(), queue);
    await this.record({ action: 'queue.resume', target: queue, actor: caller.userId, actorRole: caller.role, reason, at, ...(await this.apply(queue)) });
    return { queue, paused: false, pausedAt: null, pausedBy: null, reason };
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
