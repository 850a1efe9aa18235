// One on-call operation as the admin API reports it to the operations audit: the `onOperation` seam that
// src/node.ts takes (NodeOptions.onOperation) and hands to every service that acts for on-call.
export interface AdminOperation {
  readonly action: 'queue.pause' | 'queue.resume' | 'dead-letters.replay';
  /** On what: a queue's name; for a replay `all`, `job:<id>` or `messages`. */
  readonly target: string;
  /** The admin's user id. */
  readonly actor: string;
  /** Why, as on-call wrote it. */
  readonly reason: string;
  readonly at: Date;
  /** What was done beyond the target (a replay: its selection, the messages sent back, those left). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type OnOperation = (operation: AdminOperation) => Promise<void>;
