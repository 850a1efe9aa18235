// The push pipeline: the push scheduler (src/domain/push-scheduler.ts) driven for real, between the queue consumers
// and the FCM sender (the piscina pool in production, the sandbox in the demo).
import { PRIORITY_QUEUES, type PriorityQueue } from '../domain/priority.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Answers, OnAnswers } from '../adapters/fcm/answers.js';
import type { FcmMessage } from '../adapters/fcm/fcm-message.js';
import type { FcmOutcome } from '../adapters/fcm/fcm-outcome.js';
import { PushScheduler, type PushSchedulerOptions, type Scheduled, type SchedulerStats } from '../domain/push-scheduler.js';
import type { RateLimit } from '../domain/token-bucket.js';
import { AppError, toError } from '../errors/app-error.js';

/** The pipeline was closed (the FCM pool stopping or restarting): the batch goes back to RabbitMQ. */
export class PipelineClosedError extends AppError {
  readonly code = 'PUSH_PIPELINE_CLOSED';
  constructor() {
    super('the push pipeline is closed (the FCM pool is stopping or restarting)');
  }
}

/** Hears what the pipeline does, for /metrics (samaconso_fcm_sends_total, samaconso_scheduler_wait_seconds). */
export interface PushObserver {
  /** A chunk came back from the sender: one outcome per token. */
  sent(queue: PriorityQueue, outcomes: readonly FcmOutcome[]): void;
  /** A chunk was handed to the sender `waitedMs` after its batch reached the pipeline (backpressure included). */
  handedOut(queue: PriorityQueue, waitedMs: number): void;
}

export interface PushPipelineOptions {
  readonly observer?: PushObserver;
  readonly clock: Clock;
  readonly rateLimit: RateLimit;
  /**
   * Sends one batch (≤ 500 messages) of the given priority: one outcome per message, in order. `onAnswers`, when
   * given, hears answers while the batch is in flight (positions in `messages`).
   */
  readonly send: (messages: readonly FcmMessage[], queue: PriorityQueue, onAnswers?: OnAnswers) => Promise<FcmOutcome[]>;
  /** Scheduler settings; the node sets `capacity` to what each queue's prefetch can hold of full batches. */
  readonly scheduler: Omit<PushSchedulerOptions<Chunk>, 'rateLimit' | 'split' | 'onSpace'>;
  /** Told about every 429 pause (logs, metrics). */
  readonly onPause?: (untilMs: number, retryAfterMs: number) => void;
  /**
   * Told once per sent batch that had outcomes needing a person (auth/config/payload failures: `alert`), with how
   * many and the first one; nothing is removed for them.
   */
  readonly onAlert?: (count: number, first: FcmOutcome) => void;
}

export interface PushPipelineStats extends SchedulerStats {
  /** Batches waiting for room in their queue (backpressure). */
  readonly waiting: number;
  readonly batchesSent: number;
  readonly messagesSent: number;
  readonly senderFailures: number;
  readonly pauses: number;
  /** Failed outcomes that need a person (auth, configuration, payload), since start. */
  readonly alerts: number;
  /** Per-token outcomes the sender answered, by `kind:code` (`sent`, `remove-token:UNREGISTERED`, …). */
  readonly outcomes: Readonly<Record<string, number>>;
}

/** A part of one offered batch: its messages and where they sit in the batch. */
interface Chunk {
  readonly messages: readonly FcmMessage[];
  readonly offset: number;
}

interface Pending {
  readonly outcomes: FcmOutcome[];
  /** When the batch reached the pipeline (clock ms). */
  readonly offeredAt: number;
  readonly onAnswers: OnAnswers | undefined;
  failed: Error | undefined;
  resolve(outcomes: FcmOutcome[]): void;
  reject(error: Error): void;
}

interface Waiting {
  readonly queue: PriorityQueue;
  readonly messages: readonly FcmMessage[];
  readonly pending: Pending;
}

/**
 * consumer handler ──send(queue, messages)──▶ scheduler (priority, shares, split low batches, rate limit)
 *                                                 └──▶ at most maxInFlight batches in the sender at once
 *
 * - Backpressure: a queue that holds its capacity refuses more; the batch then waits here, outside the scheduler,
 *   and the consumer's handler with it, so the consumer holds its prefetch of unacked deliveries and RabbitMQ stops
 *   delivering to it (the node sizes capacity to what the prefetch can deliver: this is the exception).
 * - A 429 (QUOTA_EXCEEDED with its Retry-After) pauses the rate limit, shared by every worker when it is the Redis
 *   one; the tokens that got it go through the retry queues like any retryable outcome (the dispatch handler's job).
 * - `close` fails what waits (not yet handed out) and lets what is in flight finish.
 */
export class PushPipeline {
  private readonly scheduler: PushScheduler<Chunk>;
  private readonly pending = new WeakMap<object, Pending>();
  private readonly waiting = new Map<PriorityQueue, Waiting[]>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();
  private batchesSent = 0;
  private messagesSent = 0;
  private senderFailures = 0;
  private pauses = 0;
  private readonly outcomes: Record<string, number> = {};
  private alerts = 0;

  constructor(private readonly options: PushPipelineOptions) {
    this.scheduler = new PushScheduler<Chunk>({
      ...options.scheduler,
      rateLimit: options.rateLimit,
      split: (chunk, from, to) => ({ messages: chunk.messages.slice(from, to), offset: chunk.offset + from }),
      onSpace: (queue) => this.admitWaiting(queue),
    });
    for (const q of PRIORITY_QUEUES) this.waiting.set(q, []);
  }

  /**
   * Sends a batch of the given priority; resolves with one outcome per message, in order, once every chunk came
   * back. Rejects when the sender failed for a chunk (a thread died: nothing is known, the consumer puts the delivery
   * back) or the pipeline closed before the batch was handed out. `onAnswers` hears answers while the batch is in
   * flight (positions in `messages`), in chunks, for the batch's progress record.
   */
  send(queue: PriorityQueue, messages: readonly FcmMessage[], onAnswers?: OnAnswers): Promise<FcmOutcome[]> {
    if (this.closed) return Promise.reject(new PipelineClosedError());
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise<FcmOutcome[]>((resolve, reject) => {
      const pending: Pending = { outcomes: new Array<FcmOutcome>(messages.length), offeredAt: this.options.clock.now(), onAnswers, failed: undefined, resolve, reject };
      const queued = this.waiting.get(queue)!;
      // Keep arrival order per queue: once one batch waits for room, later ones wait behind it.
      if (queued.length > 0 || !this.offer(queue, messages, pending)) queued.push({ queue, messages, pending });
      this.pump();
    });
  }

  stats(): PushPipelineStats {
    let waiting = 0;
    for (const list of this.waiting.values()) waiting += list.length;
    return {
      ...this.scheduler.snapshot(),
      waiting,
      batchesSent: this.batchesSent,
      messagesSent: this.messagesSent,
      senderFailures: this.senderFailures,
      pauses: this.pauses,
      outcomes: { ...this.outcomes },
      alerts: this.alerts,
    };
  }

  /**
   * Stops taking batches: those waiting or queued fail with PipelineClosedError (their deliveries go back to
   * RabbitMQ), those in flight finish. Resolves when none is in flight.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.options.clock.clearTimeout(this.timer);
      this.timer = undefined;
      const error = new PipelineClosedError();
      for (const list of this.waiting.values()) {
        for (const w of list.splice(0)) w.pending.reject(error);
      }
      // Empty the scheduler without sending: the batch of every queued chunk fails (a promise settles once,
      // so a batch with chunks in flight as well is simply already failed when they come back).
      for (const work of this.scheduler.drainQueued()) this.pending.get(work.origin)!.reject(error);
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private offer(queue: PriorityQueue, messages: readonly FcmMessage[], pending: Pending): boolean {
    const item: Chunk = { messages, offset: 0 };
    const work = { queue, size: messages.length, item };
    if (!this.scheduler.offer(work)) return false;
    this.pending.set(work, pending);
    return true;
  }

  private admitWaiting(queue: PriorityQueue): void {
    const list = this.waiting.get(queue)!;
    while (list.length > 0 && !this.closed) {
      const w = list[0]!;
      if (!this.offer(w.queue, w.messages, w.pending)) break;
      list.shift();
    }
  }

  /** Hands out everything the scheduler allows now; arms a timer when only the rate limit stands in the way. */
  private pump(): void {
    if (this.closed) return;
    for (let work = this.scheduler.next(); work; work = this.scheduler.next()) this.run(work);
    const wait = this.scheduler.msUntilNext();
    if (wait === undefined) return;
    const at = this.options.clock.now() + Math.max(1, wait);
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.options.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, Math.max(1, wait));
  }

  private run(work: Scheduled<Chunk>): void {
    const pending = this.pending.get(work.origin)!;
    this.options.observer?.handedOut(work.queue, this.options.clock.now() - pending.offeredAt);
    const sending = (async () => {
      try {
        const { offset } = work.item;
        const told = pending.onAnswers;
        const onAnswers = told ? (answers: Answers) => told(offset === 0 ? answers : answers.map(([i, o]) => [offset + i, o] as const)) : undefined;
        const outcomes = await this.options.send(work.item.messages, work.queue, onAnswers);
        if (outcomes.length !== work.item.messages.length) {
          throw new Error(`the sender answered ${outcomes.length} outcomes for ${work.item.messages.length} messages`);
        }
        this.batchesSent++;
        this.messagesSent += outcomes.length;
        outcomes.forEach((o, i) => {
          pending.outcomes[work.item.offset + i] = o;
          const key = o.kind === 'sent' ? 'sent' : `${o.kind}:${o.code}`;
          this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
        });
        this.options.observer?.sent(work.queue, outcomes);
        this.pauseOn429(outcomes);
        this.reportAlerts(outcomes);
        if (this.scheduler.done(work)) this.settle(pending);
      } catch (e) {
        this.senderFailures++;
        pending.failed ??= toError(e);
        if (this.scheduler.done(work)) this.settle(pending);
      }
    })();
    this.inFlight.add(sending);
    void sending.finally(() => {
      this.inFlight.delete(sending);
      this.pump();
    });
  }

  private settle(pending: Pending): void {
    if (pending.failed) pending.reject(pending.failed);
    else pending.resolve(pending.outcomes);
  }

  private reportAlerts(outcomes: readonly FcmOutcome[]): void {
    let count = 0;
    let first: FcmOutcome | undefined;
    for (const o of outcomes) {
      if (o.kind === 'fail' && o.alert) {
        count++;
        first ??= o;
      }
    }
    if (count === 0 || !first) return;
    this.alerts += count;
    this.options.onAlert?.(count, first);
  }

  private pauseOn429(outcomes: readonly FcmOutcome[]): void {
    let retryAfterMs = -1;
    for (const o of outcomes) {
      if (o.kind === 'retry' && o.code === 'QUOTA_EXCEEDED' && o.retryAfterMs > retryAfterMs) retryAfterMs = o.retryAfterMs;
    }
    if (retryAfterMs < 0) return;
    const until = this.options.clock.now() + retryAfterMs;
    this.pauses++;
    this.options.rateLimit.pauseUntil(until);
    this.options.onPause?.(until, retryAfterMs);
  }
}
