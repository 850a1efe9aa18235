// The FCM pool: firebase-admin on piscina worker threads (DESIGN.md §4), so the ~65–85 µs of CPU per message it
// costs (FACTS.md) is spent off the main thread, where the consumers, the push scheduler and the database work run.
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AnswerChunking, Answers, OnAnswers } from './answers.js';
import type { FcmMessage } from './fcm-message.js';
import type { FcmOutcome } from './fcm-outcome.js';
import type { FcmSenderOptions } from './fcm-sender.js';
import type { PoolTask } from './pool-task.js';

/** Who hears a batch's answers while it is in flight, and how they are chunked. */
export interface BatchProgressListener {
  readonly onAnswers: OnAnswers;
  readonly chunking: AnswerChunking;
}

/** Sender options that can cross into a thread: the credential is a service-account file path. */
export type PoolSenderOptions = Omit<FcmSenderOptions, 'credential' | 'appName'> & { readonly credential: string };

export interface FcmPoolOptions {
  readonly threads: number;
  /**
   * Threads kept for urgent batches (0: urgent shares the others). On a busy worker a thread's event loop holds
   * the answers of every batch in flight on it; an urgent batch on its own thread waits behind none of them.
   * @defaultValue 0
   */
  readonly urgentThreads?: number;
  /** Batches in flight at most across all threads (the push scheduler's slots). */
  readonly maxInFlight: number;
  readonly sender: PoolSenderOptions;
  /**
   * V8 heap limits of each thread (MB; absent: V8's default, sized from the machine's memory — 0 is not "default"
   * to Node, it is a heap too small to start). Without them a thread's young generation doubles to V8's maximum
   * under load and its old generation is collected lazily against a limit of several GB, so each thread adds tens
   * of MB to the worker's RSS during a large broadcast (bench/RESULTS.md "dispatch memory"). A thread that reaches
   * its limit dies like any failed thread: its batches go back to RabbitMQ and piscina starts another.
   */
  readonly resourceLimits?: { readonly maxOldGenerationSizeMb?: number; readonly maxYoungGenerationSizeMb?: number };
  /**
   * A thread died with no batch of its own (say, out of memory between batches): piscina starts another (not for
   * a thread that died while starting: piscina then stops replacing threads). Without this listener piscina's
   * 'error' event would be unhandled and take the whole process down.
   */
  readonly onThreadError?: (error: unknown) => void;
}

export interface FcmPoolStats {
  readonly threads: number;
  readonly inFlight: number;
  readonly completed: number;
  readonly failed: number;
}

export interface FcmPool {
  /**
   * One outcome per message, in order; rejects when the thread failed (nothing is known about the batch).
   * `urgent` batches go to the urgent threads when there are any.
   */
  sendBatch(messages: readonly FcmMessage[], urgent?: boolean, progress?: BatchProgressListener): Promise<FcmOutcome[]>;
  stats(): FcmPoolStats;
  /** Waits for the batches in flight, then ends the threads. */
  close(): Promise<void>;
}

/** The thread's entry: compiled JavaScript, or the tsx bootstrap when running from the TypeScript sources. */
function workerEntry(): { filename: string; sourceEntry: string | undefined } {
  if (import.meta.url.endsWith('.ts')) {
    return { filename: new URL('./pool-worker-source.mjs', import.meta.url).href, sourceEntry: new URL('./pool-worker.ts', import.meta.url).href };
  }
  return { filename: new URL('./pool-worker.js', import.meta.url).href, sourceEntry: undefined };
}

/**
 * The pool never decides order: the push scheduler hands it at most `maxInFlight` batches at once and every one of
 * them runs at once (concurrentTasksPerWorker covers them), so piscina's own FIFO queue stays empty; its maxQueue is
 * that same bound, and a caller that exceeded it gets an error instead of a silent queue. A thread that dies (an
 * uncaught error, out of memory) fails only its own batches (the consumer puts their messages back in the queue)
 * and piscina starts another.
 */
export function createFcmPool(options: FcmPoolOptions): FcmPool {
  const { threads, maxInFlight } = options;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a whole number >= 1');
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be a whole number >= 1');
  const urgentThreads = options.urgentThreads ?? 0;
  if (!Number.isInteger(urgentThreads) || urgentThreads < 0) throw new RangeError('urgentThreads must be a whole number >= 0');
  const { filename, sourceEntry } = workerEntry();
  const makePool = (n: number): Piscina => {
    const p = new Piscina({
      filename,
      minThreads: n,
      maxThreads: n,
      concurrentTasksPerWorker: Math.ceil(maxInFlight / n),
      maxQueue: maxInFlight,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      workerData: { sender: options.sender, sourceEntry },
    });
    p.on('error', (e: unknown) => options.onThreadError?.(e));
    return p;
  };
  const pool = makePool(threads);
  const reportsAnswers = options.sender.transport !== 'http2';
  const urgentPool = urgentThreads > 0 ? makePool(urgentThreads) : pool;
  const running = new Set<Promise<unknown>>();
  let inFlight = 0;
  let completed = 0;
  let failed = 0;
  let closing: Promise<void> | undefined;
  return {
    async sendBatch(messages, urgent = false, progress) {
      if (closing) throw new Error('the FCM pool is closed');
      inFlight++;
      // Answers come back from the thread in chunks over a port of their own while the batch is in flight (not with
      // 'http2', whose sendEach answers only at the end). A listener's failure is not the batch's.
      const channel = progress && reportsAnswers ? new MessageChannel() : undefined;
      if (channel && progress) {
        channel.port1.on('message', (answers: Answers) => {
          try {
            progress.onAnswers(answers);
          } catch {
            // the progress record is best effort: the batch's result carries every outcome
          }
        });
      }
      const poolTask: PoolTask = channel && progress ? { messages, progress: { port: channel.port2, chunking: progress.chunking } } : { messages };
      const task = (urgent ? urgentPool : pool).run(poolTask, channel ? { transferList: [channel.port2] } : {}) as Promise<FcmOutcome[]>;
      running.add(task);
      try {
        const outcomes = await task;
        completed++;
        return outcomes;
      } catch (e) {
        failed++;
        throw e;
      } finally {
        channel?.port1.close();
        running.delete(task);
        inFlight--;
      }
    },
    stats: () => ({ threads: pool.threads.length + (urgentPool === pool ? 0 : urgentPool.threads.length), inFlight, completed, failed }),
    close: () =>
      (closing ??= (async () => {
        // piscina 5.3's close() counts idle callbacks rather than idle threads, so with 2+ threads it can end a
        // thread whose batch is still running (test/integration/fcm-pool.test.ts): wait for them ourselves.
        while (running.size > 0) await Promise.allSettled([...running]);
        await Promise.all([pool.close(), ...(urgentPool === pool ? [] : [urgentPool.close()])]);
      })()),
  };
}
