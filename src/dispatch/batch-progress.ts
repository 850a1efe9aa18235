// Progress inside a batch (migration 0013, batch_progress): while a batch is in flight its holder records each chunk
// of FCM's answers as a step, so a copy that takes the batch over (its holder died) sends only the tokens without an
// answer; duplicates are then bounded by what was in flight at the death (and answered but not yet written), not by
// the batch. Steps are written one at a time (what arrives meanwhile goes into the next), numbered by the database,
// only while the writer still holds the claim, and deleted when the batch is recorded in sent_batches (recordBatch).
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { Answers } from '../adapters/fcm/answers.js';
import type { FcmOutcome, FcmOutcomeCode } from '../adapters/fcm/fcm-outcome.js';

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

/** What earlier holders recorded of a batch: outcome by position in the batch. */
export interface RecordedProgress {
  readonly outcomes: ReadonlyMap<number, FcmOutcome>;
}

/** SQL: the steps of batch `$1` as one JSON array of steps, in the order written (null when there is none). */
export const recordedStepsSql = `(SELECT jsonb_agg(p.answers ORDER BY p.id) FROM batch_progress p WHERE p.batch_id = $1)`;

/** Reads what `recordedStepsSql` returned. */
export function recordedProgress(steps: unknown): RecordedProgress {
  const outcomes = new Map<number, FcmOutcome>();
  if (Array.isArray(steps)) for (const answers of steps as StoredAnswer[][]) for (const a of answers) outcomes.set(a[0], load(a));
  return { outcomes };
}

/**
 * Records answers of a batch in flight as steps, one write at a time. `add` never waits and never throws: a step
 * that cannot be written (PostgreSQL away) is simply not recorded — the batch's final record does not depend on
 * it, a takeover would only send those tokens again.
 */
export class ProgressWriter {
  private buffered: StoredAnswer[] = [];
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: PgHandle,
    private readonly batch: { readonly batchId: string; readonly jobId: string; readonly owner: string },
    /** Maps a position in what was sent to its position in the batch. */
    private readonly position: (sentIndex: number) => number,
  ) {}

  add(answers: Answers): void {
    if (this.stopped) return;
    for (const [i, o] of answers) this.buffered.push(store(this.position(i), o));
    this.writing ??= this.drain();
  }

  /**
   * No more steps: the batch is about to be recorded whole. A write in progress is not waited for (the record must
   * not wait on it): should it commit after the record, its step is never read (a claim finds the batch done
   * first) and the purge removes it with the job's other rows.
   */
  stop(): void {
    this.stopped = true;
  }

  private async drain(): Promise<void> {
    try {
      while (this.buffered.length > 0 && !this.stopped) {
        const answers = this.buffered;
        this.buffered = [];
        // Only while the claim is still ours and not finished: a holder whose batch was taken over writes nothing.
        await this.db.query(
          `INSERT INTO batch_progress (batch_id, job_id, answers)
           SELECT $1, $2, $3 FROM batch_claims c
            WHERE c.batch_id = $1 AND c.claimed_by = $4 AND c.expires_at <> 'infinity'`,
          [this.batch.batchId, this.batch.jobId, JSON.stringify(answers), this.batch.owner],
        );
      }
    } catch {
      // Not recorded: see the class comment.
    } finally {
      this.writing = undefined;
    }
  }
}
