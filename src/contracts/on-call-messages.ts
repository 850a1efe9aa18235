// Messages of the on-call actor: one snapshot of everything the on-call dashboard (/admin) shows, gathered in one
// query per push of GET /admin/events. Each part is gathered on its own, so one part failing (the broker's
// management API away, PostgreSQL down) leaves the others on the page with that part's error named.
import type { ClusterNode, NodeTree } from './control-plane-messages.js';
import type { DeadLetter, JobSummary, QueueOverview } from './operations-messages.js';
import type { Reply } from './reply.js';
import type { ReadinessReport } from './supervision.js';

/** A part of the snapshot: its value, or the typed error that kept it from being read (code and client message). */
export type SnapshotPart<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** FCM's per-token answers recorded in one minute (the batches recorded then, every worker's). */
export interface FcmMinute {
  /** The minute's start (ISO 8601). */
  readonly minute: string;
  readonly sent: number;
  /** Transient failures sent again on a retry queue. */
  readonly retried: number;
  /** Tokens FCM no longer knows, removed. */
  readonly removed: number;
  /** Failed for good (including retries past the last attempt). */
  readonly failed: number;
}

/** The cluster as the control plane sees it: alive nodes, and each one's last supervision tree. */
export interface ClusterView {
  readonly nodes: readonly ClusterNode[];
  readonly trees: readonly NodeTree[];
}

export interface OnCallSnapshot {
  /** When it was gathered (ISO 8601, this node's clock). */
  readonly at: string;
  readonly cluster: SnapshotPart<ClusterView>;
  /** The four priority queues and the dead-letter queue, from the broker's own counters. */
  readonly queues: SnapshotPart<readonly QueueOverview[]>;
  /** The last 30 minutes, oldest first, one entry per minute (zeros included). */
  readonly fcm: SnapshotPart<readonly FcmMinute[]>;
  /** This node's readiness: PostgreSQL, cache, broker, the SQL sources' circuits, and who consumes each queue. */
  readonly health: SnapshotPart<ReadinessReport>;
  /** The most recent notification jobs, newest first. */
  readonly jobs: SnapshotPart<readonly JobSummary[]>;
  /** The head of the dead-letter queue (read at most every few seconds: each read opens a connection). */
  readonly deadLetters: SnapshotPart<readonly DeadLetter[]>;
}

export type OnCallMessage = { readonly type: 'snapshot'; readonly replyTo: Reply<OnCallSnapshot> };
