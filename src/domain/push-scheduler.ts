// The push scheduler: the only queue in front of the FCM pool, where priority really happens (strict urgent,
// weighted shares for the rest, within the send-rate limit). Pure and synchronous: no I/O, no timers; the caller owns the loop.

import { PRIORITY_QUEUES, type PriorityQueue } from './priority.js';
import type { RateLimit } from './token-bucket.js';

export type SharedQueue = Exclude<PriorityQueue, 'urgent'>;
export const SHARED_QUEUES: readonly SharedQueue[] = ['high_priority', 'normal', 'low_priority'];

export interface Work<T> {
  readonly queue: PriorityQueue;
  /** Device tokens in the batch: what the rate limit counts. */
  readonly size: number;
  readonly item: T;
}

/** What `next()` hands out: the work to send, and, for a chunk of a split batch, the batch it came from. */
export interface Scheduled<T> extends Work<T> {
  /** The work as offered (itself when not split). */
  readonly origin: Work<T>;
  /** Chunk index and count (0 of 1 when not split). */
  readonly part: { readonly index: number; readonly of: number };
}

export interface PushSchedulerOptions<T> {
  readonly rateLimit: RateLimit;
  /** Send slots (the pool's concurrency). */
  readonly maxInFlight: number;
  /** Slots only urgent may use. Must be below maxInFlight. */
  readonly reservedForUrgent: number;
  /** Tokens each queue may hold before `offer` refuses (one number for all, or per queue). */
  readonly capacity: number | Readonly<Record<PriorityQueue, number>>;
  /** Shares of high, normal and low. @defaultValue { high_priority: 6, normal: 3, low_priority: 1 } */
  readonly weights?: Readonly<Record<SharedQueue, number>>;
  /** Low batches above this many tokens are split into chunks of at most this size. Needs `split`. */
  readonly splitLowAbove?: number;
  /** Returns the part of `item` holding its tokens [from, to). */
  readonly split?: (item: T, from: number, to: number) => T;
  /** Called when a queue that refused an offer has room again. */
  readonly onSpace?: (queue: PriorityQueue) => void;
}

export interface QueueStats {
  queuedItems: number;
  queuedTokens: number;
  inFlight: number;
  handedOutItems: number;
  handedOutTokens: number;
}

export interface SchedulerStats {
  inFlight: number;
  queues: Record<PriorityQueue, QueueStats>;
}

export const DEFAULT_WEIGHTS: Readonly<Record<SharedQueue, number>> = { high_priority: 6, normal: 3, low_priority: 1 };

interface Origin {
  remaining: number;
}

/**
 * Priority in front of the FCM pool (DESIGN.md §4):
 *
 *   consumers ──offer()──▶ urgent | high_priority | normal | low_priority ──next()──▶ send slot ──done()
 *
 * - urgent is strict: whenever urgent work is queued it is next, and `reservedForUrgent` of the
 *   `maxInFlight` slots are kept for it, so an urgent send waits at most for the batches already in flight;
 * - high, normal and low share the remaining slots by weight (stride scheduling over queued tokens, so a
 *   queue's share is in tokens, split chunks included); an idle queue earns no credit, low never starves;
 * - a low batch above `splitLowAbove` tokens is split into chunks at offer time, so urgent slips between;
 * - a batch goes out only when the RateLimit grants all its tokens; otherwise `msUntilNext()` says when;
 * - each queue holds a bounded number of tokens: `offer` returns false when full (the consumer pauses)
 *   and `onSpace` fires for that queue once it has room again (the consumer resumes).
 */
export class PushScheduler<T> {
  private readonly queues = new Map<PriorityQueue, Scheduled<T>[]>();
  private readonly heads = new Map<PriorityQueue, number>();
  private readonly stats: Record<PriorityQueue, QueueStats>;
  private readonly capacity: Readonly<Record<PriorityQueue, number>>;
  private readonly weights: Readonly<Record<SharedQueue, number>>;
  /** Stride scheduling: the virtual time each shared queue has been served to; lowest goes next. */
  private readonly pass: Record<SharedQueue, number> = { high_priority: 0, normal: 0, low_priority: 0 };
  private virtualTime = 0;
  private readonly refused = new Set<PriorityQueue>();
  private readonly listeners = new Set<(queue: PriorityQueue) => void>();
  private readonly origins = new WeakMap<Work<T>, Origin>();
  private readonly outstanding = new Set<Scheduled<T>>();
  private urgentInFlight = 0;
  private sharedInFlight = 0;

  constructor(private readonly options: PushSchedulerOptions<T>) {
    const { maxInFlight, reservedForUrgent, splitLowAbove } = options;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    if (!Number.isInteger(reservedForUrgent) || reservedForUrgent < 0 || reservedForUrgent >= maxInFlight) {
      throw new RangeError('reservedForUrgent must be an integer in [0, maxInFlight)');
    }
    if (splitLowAbove !== undefined) {
      if (!Number.isInteger(splitLowAbove) || splitLowAbove < 1) throw new RangeError('splitLowAbove must be a positive integer');
      if (!options.split) throw new RangeError('splitLowAbove needs a split function');
    }
    this.weights = options.weights ?? DEFAULT_WEIGHTS;
    for (const q of SHARED_QUEUES) {
      const w = this.weights[q];
      if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`weight of ${q} must be a positive number`);
    }
    const cap = options.capacity;
    this.capacity =
      typeof cap === 'number' ? { urgent: cap, high_priority: cap, normal: cap, low_priority: cap } : { ...cap };
    const stats = {} as Record<PriorityQueue, QueueStats>;
    for (const q of PRIORITY_QUEUES) {
      if (!(this.capacity[q] > 0)) throw new RangeError(`capacity of ${q} must be positive`);
      this.queues.set(q, []);
      this.heads.set(q, 0);
      stats[q] = { queuedItems: 0, queuedTokens: 0, inFlight: 0, handedOutItems: 0, handedOutTokens: 0 };
    }
    this.stats = stats;
    if (options.onSpace) this.listeners.add(options.onSpace);
  }

  /** Subscribes to "queue has room again"; returns the unsubscribe function. */
  onSpace(listener: (queue: PriorityQueue) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True when the queue holds its capacity in tokens or more. */
  isFull(queue: PriorityQueue): boolean {
    return this.stats[queue].queuedTokens >= this.capacity[queue];
  }

  /**
   * Queues the work; false (and nothing queued) when the queue has no room for it. An empty queue takes
   * any size, so a batch bigger than the capacity is never refused forever.
   */
  offer(work: Work<T>): boolean {
    if (!Number.isInteger(work.size) || work.size < 1) throw new RangeError('work size must be a positive integer');
    const s = this.stats[work.queue];
    if (s.queuedItems > 0 && s.queuedTokens + work.size > this.capacity[work.queue]) {
      this.refused.add(work.queue);
      return false;
    }
    const q = work.queue;
    if (q !== 'urgent' && s.queuedItems === 0) {
      // A queue coming back from idle starts at the current virtual time: no credit for the idle time.
      this.pass[q] = Math.max(this.pass[q], this.virtualTime);
    }
    const parts = this.splitWork(work);
    this.origins.set(work, { remaining: parts.length });
    const list = this.queues.get(q)!;
    for (const p of parts) list.push(p);
    s.queuedItems += parts.length;
    s.queuedTokens += work.size;
    return true;
  }

  /**
   * The next work to send when a send slot frees, or undefined: nothing queued, no slot it may use, or
   * the rate limit does not grant its tokens yet (see `msUntilNext`). The caller reports `done` after.
   */
  next(): Scheduled<T> | undefined {
    const pick = this.candidate();
    if (!pick) return undefined;
    const work = this.peek(pick)!;
    if (!this.options.rateLimit.tryTake(work.size)) return undefined;
    this.take(pick);
    if (pick !== 'urgent') {
      this.virtualTime = this.pass[pick];
      this.pass[pick] += work.size / this.weights[pick];
    }
    const s = this.stats[pick];
    s.queuedItems -= 1;
    s.queuedTokens -= work.size;
    s.inFlight += 1;
    s.handedOutItems += 1;
    s.handedOutTokens += work.size;
    if (pick === 'urgent') this.urgentInFlight += 1;
    else this.sharedInFlight += 1;
    this.outstanding.add(work);
    this.signalSpace(pick);
    return work;
  }

  /**
   * Frees the slot of a handed-out work. Returns true when its origin is complete (every chunk of a split
   * batch done), i.e. when the consumer may ack the delivery.
   */
  done(work: Scheduled<T>): boolean {
    if (!this.outstanding.delete(work)) throw new Error('done() for work that is not in flight');
    this.stats[work.queue].inFlight -= 1;
    if (work.queue === 'urgent') this.urgentInFlight -= 1;
    else this.sharedInFlight -= 1;
    const origin = this.origins.get(work.origin)!;
    origin.remaining -= 1;
    return origin.remaining === 0;
  }

  /**
   * When to call `next()` again: 0 = now, a delay in ms when only the rate limit stands in the way, and
   * undefined when nothing can go until something is offered or a slot is freed with `done`.
   */
  msUntilNext(): number | undefined {
    const pick = this.candidate();
    if (!pick) return undefined;
    return this.options.rateLimit.msUntil(this.peek(pick)!.size);
  }

  /**
   * Removes everything queued (not handed out) and returns it, without the rate limit or slots: for a pipeline
   * that closes and fails what it had not sent yet. Queues that refused offers are told they have room.
   */
  drainQueued(): Scheduled<T>[] {
    const out: Scheduled<T>[] = [];
    for (const q of PRIORITY_QUEUES) {
      const list = this.queues.get(q)!;
      out.push(...list.slice(this.heads.get(q)!));
      list.length = 0;
      this.heads.set(q, 0);
      this.stats[q].queuedItems = 0;
      this.stats[q].queuedTokens = 0;
      this.signalSpace(q);
    }
    return out;
  }

  /** Snapshot of the counters. */
  snapshot(): SchedulerStats {
    const queues = {} as Record<PriorityQueue, QueueStats>;
    for (const q of PRIORITY_QUEUES) queues[q] = { ...this.stats[q] };
    return { inFlight: this.urgentInFlight + this.sharedInFlight, queues };
  }

  /** Which queue goes next if the rate limit allows, or undefined. */
  private candidate(): PriorityQueue | undefined {
    const { maxInFlight, reservedForUrgent } = this.options;
    if (this.stats.urgent.queuedItems > 0) {
      // Strict: while urgent waits, nothing else goes (it would take rate tokens urgent needs).
      return this.urgentInFlight + this.sharedInFlight < maxInFlight ? 'urgent' : undefined;
    }
    // Shared queues keep the reserved slots free (or used by urgent).
    if (this.sharedInFlight + Math.max(this.urgentInFlight, reservedForUrgent) >= maxInFlight) return undefined;
    let best: SharedQueue | undefined;
    for (const q of SHARED_QUEUES) {
      if (this.stats[q].queuedItems === 0) continue;
      if (best === undefined || this.pass[q] < this.pass[best]) best = q;
    }
    return best;
  }

  private peek(queue: PriorityQueue): Scheduled<T> | undefined {
    return this.queues.get(queue)![this.heads.get(queue)!];
  }

  private take(queue: PriorityQueue): void {
    const list = this.queues.get(queue)!;
    const head = this.heads.get(queue)! + 1;
    if (head >= list.length) {
      list.length = 0;
      this.heads.set(queue, 0);
    } else if (head > 1024 && head * 2 > list.length) {
      list.splice(0, head);
      this.heads.set(queue, 0);
    } else {
      this.heads.set(queue, head);
    }
  }

  private splitWork(work: Work<T>): Scheduled<T>[] {
    const limit = this.options.splitLowAbove;
    const split = this.options.split;
    if (work.queue !== 'low_priority' || limit === undefined || !split || work.size <= limit) {
      return [{ ...work, origin: work, part: { index: 0, of: 1 } }];
    }
    const of = Math.ceil(work.size / limit);
    const parts: Scheduled<T>[] = [];
    for (let index = 0; index < of; index++) {
      const from = index * limit;
      const to = Math.min(work.size, from + limit);
      parts.push({ queue: work.queue, size: to - from, item: split(work.item, from, to), origin: work, part: { index, of } });
    }
    return parts;
  }

  private signalSpace(queue: PriorityQueue): void {
    if (!this.refused.has(queue) || this.isFull(queue)) return;
    this.refused.delete(queue);
    for (const l of this.listeners) l(queue);
  }
}
