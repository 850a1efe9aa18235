// Answers as they come, inside a batch, told in chunks: the batch's progress is recorded from them
// (dispatch/batch-progress.ts), so a copy that takes a batch over after its worker died sends only what had no answer.
import type { FcmOutcome } from './fcm-outcome.js';

/** Outcomes of some messages of a batch, each with its position in what was given to the sender. */
export type Answers = ReadonlyArray<readonly [index: number, outcome: FcmOutcome]>;

/** Told each chunk of answers of a batch in flight. */
export type OnAnswers = (answers: Answers) => void;

/**
 * How answers are chunked before they are told: where they are produced (a pool thread posts one message per chunk,
 * not per answer), a chunk goes out when it holds `step` answers or `flushMs` after its first answer.
 */
export interface AnswerChunking {
  readonly step: number;
  readonly flushMs: number;
}

/**
 * Collects answers one by one and tells them in chunks. `close` drops what is not told yet: the batch's result,
 * which carries every outcome, follows at once.
 */
export function answerChunker(chunking: AnswerChunking, tell: OnAnswers): { add(index: number, outcome: FcmOutcome): void; close(): void } {
  let chunk: Array<readonly [number, FcmOutcome]> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (chunk.length === 0 || closed) return;
    const told = chunk;
    chunk = [];
    tell(told);
  };
  return {
    add(index, outcome) {
      if (closed) return;
      chunk.push([index, outcome]);
      if (chunk.length >= chunking.step) flush();
      else timer ??= setTimeout(flush, chunking.flushMs);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      chunk = [];
    },
  };
}
