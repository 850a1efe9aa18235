// One on-call operation as the admin API reports it to the operations audit: the `onOperation` seam that
// src/node.ts takes (NodeOptions.onOperation; by default a row in operations_audit) and hands to every service that
// acts for on-call.
import type { CommandResult } from './control-plane-messages.js';

interface OperationBase {
  /** On what: a queue's name; for a replay `all`, `job:<id>` or `messages`. */
  readonly target: string;
  /** The admin's user id and role. */
  readonly actor: string;
  readonly actorRole: string;
  /** Why, as on-call wrote it. */
  readonly reason: string;
  readonly at: Date;
}

/** A queue paused or resumed (src/dispatch/queue-pause-service.ts). */
export interface QueueOperation extends OperationBase {
  readonly action: 'queue.pause' | 'queue.resume';
  /** Each node's answer to "read the pauses again" (none: applied in this process alone). */
  readonly applied: readonly CommandResult[];
  /** Why the pause stored could not be applied to the running consumers (they follow it at their next start). */
  readonly applyError?: string;
}

/** Dead letters sent back to their queues (src/operations/broker-admin.ts). */
export interface ReplayOperation extends OperationBase {
  readonly action: 'dead-letters.replay';
  /** `partial`: the replay stopped part way (the broker went away); `detail` says what was sent back. */
  readonly outcome: 'ok' | 'partial';
  /** The selection, the message ids sent back, those skipped or not found. */
  readonly detail: Readonly<Record<string, unknown>>;
}

export type AdminOperation = QueueOperation | ReplayOperation;

export type OnOperation = (operation: AdminOperation) => Promise<void>;
