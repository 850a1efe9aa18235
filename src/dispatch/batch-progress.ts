// Progress inside a batch (migration 0013, batch_progress): while a batch is in flight its holder records each chunk
// of FCM's answers as a step, so a copy that takes the batch over (its holder died) sends only the tokens without an
// answer; duplicates are then bounded by what was in flight at the death, not by the batch. Steps are written one at
// a time (what arrives meanwhile goes into the next), only while the writer still holds the claim, and deleted when
// the batch is recorded in sent_batches (recordBatch).
import type { PgHandle } from '../contracts/postgres.js';
import type { Answers } from '../fcm/answers.js';
import type { FcmOutcome, FcmOutcomeCode } from '../fcm/fcm-outcome.js';

/**
 * One answer as stored, compact (a step of 100 answers stays a few kB): [position, 's'] sent, [position, 'x', code]
 * remove the token, [position, 'r', code, retryAfterMs] retry, [position, 'f', code, alert 0|1] failed.
 */
type StoredAnswer = [number, 's'] | [number, 'x', FcmOutcomeCode] | [number, 'r', FcmOutcomeCode, number] | [number, 'f', FcmOutcomeCode, 0 | 1];

function store(index: number, o: FcmOutcome): StoredAnswer {
  switch (o.kind) {
    case 'sent':
      return [index, 's'];
    case 'remove-token':
      return [index, 'x', o.code];
    case 'retry':
      return [index, 'r', o.code, o.retryAfterMs];
    case 'fail':
      return [index, 'f', o.code, o.alert ? 1 : 0];
  }
}

function load(a: StoredAnswer): FcmOutcome {
  switch (a[1]) {
    case 's':
      return { kind: 'sent' };
    case 'x':
      return { kind: 'remove-token', code: a[2], detail: 'answered before a takeover' };
    case 'r':
      return { kind: 'retry', code: a[2], retryAfterMs: a[3], detail: 'answered before a takeover' };
    case 'f':
      return { kind: 'fail', code: a[2], alert: a[3] === 1, detail: 'answered before a takeover' };
  }
}

/** What earlier holders recorded of a batch: outcome by position in the batch, and the last step written. */
export interface RecordedProgress {
  readonly outcomes: ReadonlyMap<number, FcmOutcome>;
  readonly lastStep: number;
}

export const NO_PROGRESS: RecordedProgress = { outcomes: new Map(), lastStep: 0 };

/** SQL: the steps of batch `$1` as one JSON array of steps (null when there is none). */
export const recordedStepsSql = `(SELECT jsonb_agg(jsonb_build_array(p.step, p.answers) ORDER BY p.step) FROM batch_progress p WHERE p.batch_id = $1)`;

/** Reads what `recordedStepsSql` returned. */
export function recordedProgress(steps: unknown): RecordedProgress {
  if (!Array.isArray(steps) || steps.length === 0) return NO_PROGRESS;
  const outcomes = new Map<number, FcmOutcome>();
  let lastStep = 0;
  for (const [step, answers] of steps as Array<[number, StoredAnswer[]]>) {
    lastStep = Math.max(lastStep, step);
    for (const a of answers) outcomes.set(a[0], load(a));
  }
  return { outcomes, lastStep };
}

/**
 * Records answers of a batch in flight as steps, one write at a time. `add` never waits and never throws: a step
 * that cannot be written (PostgreSQL away) is simply not recorded — the batch's final record does not depend on
 * it, a takeover would only send those tokens again.
 */
export class ProgressWriter {
  private buffered: StoredAnswer[] = [];
  private writing: Promise<void> | undefined;
  private step: number;
  private stopped = false;
  /** Steps written (tests and logs). */
  written = 0;

  constructor(
    private readonly db: PgHandle,
    private readonly batch: { readonly batchId: string; readonly jobId: string; readonly owner: string },
    /** Maps a position in what was sent to its position in the batch. */
    private readonly position: (sentIndex: number) => number,
    after: RecordedProgress,
  ) {
    this.step = after.lastStep;
  }

  add(answers: Answers): void {
    if (this.stopped) return;
    for (const [i, o] of answers) this.buffered.push(store(this.position(i), o));
    this.writing ??= this.drain();
  }

  /** No more steps: the batch is about to be recorded whole. Resolves once a write in progress is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.buffered.length > 0 && !this.stopped) {
        const answers = this.buffered;
        this.buffered = [];
        const step = ++this.step;
        // Only while the claim is still ours and not finished: a holder whose batch was taken over writes nothing.
        const { rowCount } = await this.db.query(
          `INSERT INTO batch_progress (batch_id, step, job_id, answers)
           SELECT $1, $2, $3, $4 FROM batch_claims c
            WHERE c.batch_id = $1 AND c.claimed_by = $5 AND c.expires_at <> 'infinity'
           ON CONFLICT (batch_id, step) DO NOTHING`,
          [this.batch.batchId, step, this.batch.jobId, JSON.stringify(answers), this.batch.owner],
        );
        if (rowCount === 1) this.written++;
      }
    } catch {
      // Not recorded: see the class comment.
    } finally {
      this.writing = undefined;
    }
  }
}
