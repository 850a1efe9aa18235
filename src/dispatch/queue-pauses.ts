// Paused priority queues (table queue_pauses): a row present means every consumer of that queue holds off; its
// messages stay queued. Written by the queue-pauses service (admin routes), read by each consumer before it
// subscribes and on `apply-pauses`, and by the queue report (a paused queue is `paused`, not unconsumed).
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { QueuePauseState } from '../contracts/queue-pauses-messages.js';

export type { QueuePauseState };
import { AppError } from '../errors/app-error.js';
import { isPriorityQueue, PRIORITY_QUEUES, type PriorityQueue } from '../domain/priority.js';

export interface QueuePause {
  readonly queue: PriorityQueue;
  readonly pausedAt: Date;
  readonly pausedBy: string;
  readonly reason: string;
}

/** What the queue report and the broker's admin read: the queues paused now. */
export interface PausedQueues {
  pausedQueues(): Promise<ReadonlySet<PriorityQueue>>;
}

export class QueueNotFoundError extends AppError {
  readonly code = 'QUEUE_NOT_FOUND';
  constructor(readonly queue: string) {
    super(`No priority queue named ${queue} (one of ${PRIORITY_QUEUES.join(', ')}).`);
  }
}

/** The queue named in a route, or QUEUE_NOT_FOUND. */
export function priorityQueueNamed(name: string): PriorityQueue {
  if (!isPriorityQueue(name)) throw new QueueNotFoundError(name);
  return name;
}

interface Row {
  queue: string;
  paused_at: Date;
  paused_by: string;
  reason: string;
}

const toPause = (r: Row): QueuePause => ({ queue: r.queue as PriorityQueue, pausedAt: r.paused_at, pausedBy: r.paused_by, reason: r.reason });

export async function readQueuePauses(db: Queryable): Promise<QueuePause[]> {
  const { rows } = await db.query<Row>('SELECT queue, paused_at, paused_by, reason FROM queue_pauses');
  return rows.map(toPause);
}

/** Why `queue` is paused, or undefined when it is not. */
export async function pauseOf(db: Queryable, queue: PriorityQueue): Promise<QueuePause | undefined> {
  const { rows } = await db.query<Row>('SELECT queue, paused_at, paused_by, reason FROM queue_pauses WHERE queue = $1', [queue]);
  return rows[0] ? toPause(rows[0]) : undefined;
}

/** Pauses `queue`; pausing a paused queue keeps its first pause (when and by whom) unchanged. */
export async function writePause(db: Queryable, queue: PriorityQueue, by: string, reason: string, at: Date): Promise<QueuePause> {
  await db.query('INSERT INTO queue_pauses (queue, paused_at, paused_by, reason) VALUES ($1, $2, $3, $4) ON CONFLICT (queue) DO NOTHING', [queue, at, by, reason]);
  const pause = await pauseOf(db, queue);
  if (!pause) throw new Error(`the pause of ${queue} vanished as it was written`);
  return pause;
}

/** Resumes `queue`; true when it was paused. */
export async function deletePause(db: Queryable, queue: PriorityQueue): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM queue_pauses WHERE queue = $1', [queue]);
  return (rowCount ?? 0) > 0;
}

export function pausedQueuesFrom(db: () => Promise<Queryable>): PausedQueues {
  return {
    async pausedQueues() {
      return new Set((await readQueuePauses(await db())).map((p) => p.queue));
    },
  };
}

export function pausedState(pause: QueuePause): QueuePauseState {
  return { queue: pause.queue, paused: true, pausedAt: pause.pausedAt.toISOString(), pausedBy: pause.pausedBy, reason: pause.reason };
}
