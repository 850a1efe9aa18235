// Pausing and resuming a priority queue: the table first (so the pause survives restarts and reaches consumers that
// start later), then `apply` tells the running consumers. `apply` is one function given by the composition root
// (src/node.ts): today this process's own consumers; the cluster control plane can make it "every node".
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { AdminOperation, OnOperation } from '../contracts/admin-operation.js';
import type { Caller } from '../contracts/caller.js';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import { deletePause, pausedState, priorityQueueNamed, writePause, type QueuePauseState } from './queue-pauses.js';

/** A queue pause or resume, for the operations audit (the one call site: `QueuePauseService.record`). */
export type QueueOperation = AdminOperation & { readonly action: 'queue.pause' | 'queue.resume' };

export type { OnOperation };

export interface QueuePauseDeps {
  readonly db: () => Promise<Queryable>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Makes the running consumers follow the table (they also read it at every start). */
  readonly apply: () => Promise<unknown>;
  /** Records the operation (the operations audit); @defaultValue does nothing */
  readonly onOperation?: OnOperation;
}

export class QueuePauseService {
  constructor(private readonly deps: QueuePauseDeps) {}

  async pause(caller: Caller, name: string, reason: string): Promise<QueuePauseState> {
    const queue = priorityQueueNamed(name);
    const at = new Date(this.deps.clock.now());
    const pause = await writePause(await this.deps.db(), queue, caller.userId, reason, at);
    await this.record({ action: 'queue.pause', target: queue, actor: caller.userId, reason, at });
    await this.apply(queue);
    return pausedState(pause);
  }

  async resume(caller: Caller, name: string, reason: string): Promise<QueuePauseState> {
    const queue = priorityQueueNamed(name);
    const at = new Date(this.deps.clock.now());
    await deletePause(await this.deps.db(), queue);
    await this.record({ action: 'queue.resume', target: queue, actor: caller.userId, reason, at });
    await this.apply(queue);
    return { queue, paused: false, pausedAt: null, pausedBy: null, reason };
  }

  private async record(operation: QueueOperation): Promise<void> {
    await this.deps.onOperation?.(operation);
  }

  /** The table is the record: consumers not told now (one restarting, another node) follow it when they start. */
  private async apply(queue: string): Promise<void> {
    try {
      await this.deps.apply();
    } catch (error) {
      this.deps.log.warn({ err: error, queue }, `queue pause stored; applying it to the running consumers failed (${errorMessage(error)}): they follow it at their next start`);
    }
  }
}
