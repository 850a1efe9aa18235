// The message that carries an accepted job from intake (the outbox relay, or the job reaper resuming it) to a worker.
import type { PriorityQueue } from './priority.js';

/** What is published for an accepted job; the worker reads the rest from the job row, so it needs only `jobId`. */
export interface JobMessage {
  readonly kind: 'notification-job';
  readonly jobId: string;
  readonly type: string;
  readonly queue: PriorityQueue;
}
