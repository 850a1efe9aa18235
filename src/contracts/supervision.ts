// What the supervision layer reports about itself: states, stats and the tree snapshot.

export const ACTOR_STATES = ['starting', 'running', 'backing-off', 'paused', 'stopped', 'failed'] as const;
export type ActorState = (typeof ACTOR_STATES)[number];

export interface LastError {
  readonly message: string;
  readonly code?: string;
  /** ISO time from the injected clock. */
  readonly at: string;
}

export interface ActorStats {
  readonly state: ActorState;
  readonly mailboxDepth: number;
  readonly handled: number;
  readonly crashes: number;
  readonly restarts: number;
  readonly lastError?: LastError;
  /** Why the actor is not running, when it says so (e.g. "connecting to PostgreSQL"). */
  readonly detail?: string;
}

export interface TreeNode {
  /** Full path, e.g. `root/resources/postgres`. */
  readonly path: string;
  readonly name: string;
  readonly kind: 'supervisor' | 'actor';
  readonly stats: ActorStats;
  /** Only on supervisors. */
  readonly strategy?: 'one-for-one' | 'rest-for-one';
  /** Parts that count for readiness. */
  readonly readiness?: boolean;
  readonly children?: readonly TreeNode[];
}

export interface ReadinessPart {
  readonly name: string;
  readonly state: ActorState;
  readonly ready: boolean;
  readonly detail?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly role: string;
  readonly parts: readonly ReadinessPart[];
}
