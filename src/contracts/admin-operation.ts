// One on-call operation as the admin API reports it to the operations audit: the `onOperation` seam that
// src/node.ts takes (NodeOptions.onOperation) and hands to every service that acts for on-call.
import type { CommandResult } from './control-plane-messages.js';

export interface AdminOperation {
  readonly action: 'queue.pause' | 'queue.resume' | 'dead-letters.replay';
  /** On what: a queue's name; for a replay `all`, `job:<id>` or `messages`. */
  readonly target: string;
  /** The admin's user id and role. */
  readonly actor: string;
  readonly actorRole: string;
  /** Why, as on-call wrote it. */
  readonly reason: string;
  readonly at: Date;
  /** What was done beyond the target (a replay: its selection, the messages sent back, those left). */
  readonly detail?: Readonly<Record<string, unknown>>;
  /** Each node's answer when the operation was sent through the control plane (none: this process alone). */
  readonly applied?: readonly CommandResult[];
  /** Why it could not be applied now (a pause stored is still followed at each consumer's next start). */
  readonly applyError?: string;
}

export type OnOperation = (operation: AdminOperation) => Promise<void>;
