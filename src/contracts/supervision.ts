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
  /** Parts listed in readiness, and whether they must run for the process to be ready. */
  readonly readiness?: 'required' | 'optional';
  readonly children?: readonly TreeNode[];
}

export interface ReadinessPart {
  readonly name: string;
  readonly state: ActorState;
  readonly ready: boolean;
  /** A required part not ready makes the process unready; an optional one only degrades it. */
  readonly required: boolean;
  readonly detail?: string;
}

/** Consumers of each priority queue across the cluster, as the broker counts them (for alerts, never readiness). */
export interface QueueConsumersReport {
  /** `unknown` while the broker cannot be asked (down, or in-process without consumers yet). */
  readonly state: 'known' | 'unknown';
  readonly queues: readonly { readonly queue: string; readonly consumers: number; readonly flagged: boolean; readonly paused: boolean }[];
  /** Queues nobody consumes (and not paused): their messages wait. */
  readonly flagged: readonly string[];
  /** Queues paused by an admin (queue_pauses): no consumer on purpose, not flagged. */
  readonly paused: readonly string[];
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly role: string;
  readonly parts: readonly ReadinessPart[];
  /** On API instances: who consumes each queue, read from the broker. A queue with none is flagged, not unready. */
  readonly queues?: QueueConsumersReport;
}

/** The registry of this process's supervision tree, as the control actor uses it. */
export interface SupervisionRegistry {
  tree(): TreeNode;
  readiness(role: string): ReadinessReport;
  /** Stops and starts again one named supervisor and everything under it (no restart budget spent). */
  restartSupervisor(name: string): Promise<void>;
  /** True once the whole tree is stopping (the process is shutting down), as opposed to a part restarting. */
  readonly stopping: boolean;
}
