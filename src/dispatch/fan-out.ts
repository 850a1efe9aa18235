// The fan-out of one notification job: pages through the targeted users by key, writes their inbox entries and
// publishes their push tokens in batches with deterministic ids, resumable from its checkpoint (0005_fanout.sql).
import type { PoolClient } from 'pg';
import type { Broker } from '../adapters/broker/broker.js';
import type { PriorityQueue } from '../domain/priority.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors/app-error.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { InboxService } from '../inbox/index.js';
import type { LiveEvent } from '../adapters/live-bus/live-event.js';
import type { NotificationTarget } from '../domain/notification-request.js';
import { audience } from './fan-out-audience.js';

export const MAX_FANOUT_BATCH = 500;
export const DEFAULT_FANOUT_BATCH = 500;
export const DEFAULT_FANOUT_PAGE = 1_000;

export interface FanOutDeps {
  readonly db: PgHandle;
  /** publish resolves only once the broker confirmed the message. */
  readonly broker: Broker;
  readonly clock: Clock;
  /** Announces new inbox entries to open WebSockets (src/adapters/live-bus/live-bus.ts); its failures are ignored. */
  readonly live?: { publish(event: LiveEvent): Promise<void> };
}

export interface FanOutOptions {
  /** Tokens per published batch, 1..500. @defaultValue 500 */
  readonly batchSize?: number;
  /** Users per page. @defaultValue 1000 */
  readonly pageSize?: number;
  /** Instrumentation: called after each page is read, with what this call holds in memory at that moment. */
  readonly onPage?: (info: FanOutPageInfo) => void;
}

export interface FanOutPageInfo {
  /** User ids of the page just read (<= pageSize). */
  readonly users: number;
  /** Tokens held: the unpublished remainder carried over (< batchSize) plus this page's tokens. */
  readonly tokens: number;
}

/** The body of each published batch (message id `${jobId}:${batchNo}`, header x-job-id). */
export interface PushBatchMessage {
  readonly kind: 'push-batch';
  readonly jobId: string;
  readonly batchNo: number;
  readonly tokens: ReadonlyArray<{ readonly sessionId: string; readonly token: string }>;
}

export interface FanOutResult {
  readonly jobId: string;
  /** Batches this call published (confirmed), including a re-published in-flight batch after a crash. */
  readonly batchesPublished: number;
  /** True when the checkpoint says the fan-out is complete (now or before this call). */
  readonly done: boolean;
  /** True when another worker advanced the checkpoint under this call: it stopped, the other one goes on. */
  readonly superseded: boolean;
  /** Totals from the checkpoint and job row once done (null when not done). */
  readonly totals: { readonly batches: number; readonly tokens: number; readonly targets: number; readonly inboxEntries: number } | null;
}

/** The job does not exist (the message outlived its row): ack and drop. */
export class FanOutJobNotFoundError extends AppError {
  readonly code = 'FANOUT_JOB_NOT_FOUND';
  constructor(readonly jobId: string) {
    super(`notification job ${jobId} not found`);
  }
}

type Token = { sessionId: string; token: string };

interface JobRow {
  id: string;
  target: NotificationTarget;
  queue: PriorityQueue;
  state: string;
  created_at: Date;
  type: string;
  title: string;
  body: string;
  data: Record<string, string>;
}

interface CheckpointRow {
  last_user_id: string | null;
  next_batch_no: number;
  pending_tokens: Token[];
  pending_offset: number;
  token_count: number;
  done_at: Date | null;
}

function checkOptions(options: FanOutOptions): { batchSize: number; pageSize: number } {
  const batchSize = options.batchSize ?? DEFAULT_FANOUT_BATCH;
  const pageSize = options.pageSize ?? DEFAULT_FANOUT_PAGE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_FANOUT_BATCH) throw new RangeError(`batchSize must be an integer from 1 to ${MAX_FANOUT_BATCH}`);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  return { batchSize, pageSize };
}

/** Message id of a batch: the same batch of the same job always gets the same id. */
export function batchMessageId(jobId: string, batchNo: number): string {
  return `${jobId}:${batchNo}`;
}

/**
 * Fans job `jobId` out, from its checkpoint (a fresh start, or where a crashed run stopped). Resolves once every
 * batch is confirmed and the job is `sending`; rejects when the database or the broker fails (the checkpoint keeps
 * what was done: call again, e.g. on redelivery of the job message).
 *
 * Pages: users.id > last, LIMIT pageSize (no cursor held open); targeted jobs get one inbox row per user, a
 * broadcast ONE broadcasts row joined at read time; batches of at most batchSize tokens go to the job's queue as
 * `<jobId>:<batchNo>`. Memory: one page of user ids, its tokens and one partial batch.
 *
 * Crash safety: each page is one transaction that writes its inbox entries and moves the checkpoint (last_user_id,
 * the unpublished tokens in pending_tokens); a batch is published and, only once the broker confirmed it, the
 * checkpoint advances (next_batch_no, pending_offset). A resumed fan-out so re-publishes at most the batch in flight
 * at the crash, with the same id and tokens (consumers dedupe by id). Every checkpoint update is conditional on the
 * state this run read, so of two workers running one job the slower stops (`superseded`) rather than fork the
 * batch numbering.
 *
 * Live delivery (`deps.live`): once a page committed, one event announces its entries (a broadcast: its row) on the
 * live bus, fire and forget — a bus that is down fails the publish at once and the fan-out neither waits nor fails:
 * the inbox is the record. A resumed broadcast fan-out announces its row again: clients dedupe by entry id.
 */
export async function fanOut(deps: FanOutDeps, job: { readonly jobId: string }, options: FanOutOptions = {}): Promise<FanOutResult> {
  const { batchSize, pageSize } = checkOptions(options);
  const { db, broker, clock } = deps;
  const jobId = job.jobId;
  const inbox = new InboxService({ db: async () => db, clock });
  const now = () => new Date(clock.now());

  const { rows: jobs } = await db.query<JobRow>(`SELECT id, target, queue, state, created_at, type, title, body, data FROM notification_jobs WHERE id = $1`, [jobId]);
  const row = jobs[0];
  if (!row) throw new FanOutJobNotFoundError(jobId);
  const who = audience(row.target);

  // Start (idempotent): the checkpoint row, the job's state, and a broadcast's one inbox row.
  await db.transaction(async (client) => {
    await client.query(`INSERT INTO fanout_checkpoints (job_id, updated_at) VALUES ($1, $2) ON CONFLICT (job_id) DO NOTHING`, [jobId, now()]);
    await client.query(`UPDATE notification_jobs SET state = 'fanning_out', updated_at = $2 WHERE id = $1 AND state = 'accepted'`, [jobId, now()]);
    if (who.broadcast) await inbox.addBroadcast(client, jobId, who.broadcast);
  });

  let cp = await readCheckpoint(db, jobId);

  // Live announcements: never awaited, never failing the fan-out (the bus counts and logs its failures).
  const live = deps.live;
  const announce = (event: LiveEvent): void => {
    if (live) live.publish(event).catch(() => undefined);
  };
  // The fields of the job's inbox item, as InboxService.list shows a new (unread) one.
  const item = { jobId, type: row.type, title: row.title, body: row.body, data: row.data, createdAt: row.created_at.toISOString(), read: false } as const;
  if (live && who.broadcast && !cp.done_at) {
    const { rows: b } = await db.query<{ id: string }>(`SELECT id::text AS id FROM broadcasts WHERE job_id = $1`, [jobId]);
    if (b[0]) announce({ v: 1, kind: 'broadcast', scope: who.broadcast, entry: { id: b[0].id, ...item } });
  }
  let published = 0;
  const result = (done: boolean, superseded: boolean, totals: FanOutResult['totals'] = null): FanOutResult => ({ jobId, batchesPublished: published, done, superseded, totals });

  /** Publishes pending[offset .. offset + batchSize) and advances the checkpoint; false when superseded. */
  const publishNext = async (): Promise<boolean> => {
    const tokens = cp.pending_tokens.slice(cp.pending_offset, cp.pending_offset + batchSize);
    const batchNo = cp.next_batch_no;
    const message: PushBatchMessage = { kind: 'push-batch', jobId, batchNo, tokens };
    await broker.publish(row.queue, Buffer.from(JSON.stringify(message)), { messageId: batchMessageId(jobId, batchNo), headers: { 'x-job-id': jobId } });
    published++;
    const rest = cp.pending_offset + tokens.length >= cp.pending_tokens.length;
    // Once the whole pending list is published it is cleared (the row stays small between pages).
    const { rowCount } = await db.query(
      `UPDATE fanout_checkpoints
          SET next_batch_no = next_batch_no + 1, token_count = token_count + $4,
              pending_offset = CASE WHEN $5::boolean THEN 0 ELSE pending_offset + $4 END,
              pending_tokens = CASE WHEN $5::boolean THEN '[]'::jsonb ELSE pending_tokens END,
              updated_at = $6
        WHERE job_id = $1 AND next_batch_no = $2 AND pending_offset = $3 AND done_at IS NULL`,
      [jobId, batchNo, cp.pending_offset, tokens.length, rest, now()],
    );
    if (rowCount !== 1) return false;
    cp = rest
      ? { ...cp, next_batch_no: batchNo + 1, token_count: cp.token_count + tokens.length, pending_tokens: [], pending_offset: 0 }
      : { ...cp, next_batch_no: batchNo + 1, token_count: cp.token_count + tokens.length, pending_offset: cp.pending_offset + tokens.length };
    return true;
  };

  for (;;) {
    if (cp.done_at) return result(true, false, await totals(db, jobId));

    // Full batches first: what a crashed run left pending, or what the last page added.
    while (cp.pending_tokens.length - cp.pending_offset >= batchSize) {
      if (!(await publishNext())) return result(false, true);
    }

    // The next page of users, by key.
    const { rows: users } = await db.query<{ id: string }>(who.page, [who.param, row.created_at, cp.last_user_id, pageSize]);

    if (users.length === 0) {
      // The end: the last partial batch, then done.
      if (cp.pending_tokens.length - cp.pending_offset > 0 && !(await publishNext())) return result(false, true);
      const finished = await db.transaction(async (client) => {
        const { rowCount } = await client.query(
          `UPDATE fanout_checkpoints SET done_at = $2, updated_at = $2 WHERE job_id = $1 AND next_batch_no = $3 AND done_at IS NULL`,
          [jobId, now(), cp.next_batch_no],
        );
        if (rowCount !== 1) return false;
        await client.query(`UPDATE notification_jobs SET state = 'sending', updated_at = $2 WHERE id = $1 AND state IN ('accepted', 'fanning_out')`, [jobId, now()]);
        return true;
      });
      if (!finished) {
        const again = await readCheckpoint(db, jobId);
        return again.done_at ? result(true, false, await totals(db, jobId)) : result(false, true);
      }
      cp = { ...cp, done_at: now() };
      continue;
    }

    const ids = users.map((u) => u.id);
    const { rows: found } = await db.query<{ session_id: string; token: string }>(
      // Active sessions keep their token after expires_at (by rule); ended and revoked ones do not receive pushes.
      `SELECT id AS session_id, push_token AS token FROM device_sessions
        WHERE user_id = ANY($1::uuid[]) AND push_token IS NOT NULL AND state = 'active'
        ORDER BY user_id, id`,
      [ids],
    );
    const pending: Token[] = [...cp.pending_tokens.slice(cp.pending_offset), ...found.map((t) => ({ sessionId: t.session_id, token: t.token }))];
    options.onPage?.({ users: users.length, tokens: pending.length });
    const lastUser = ids[ids.length - 1]!;

    const taken = await db.transaction(async (client) => {
      const { rowCount } = await client.query(
        `UPDATE fanout_checkpoints SET last_user_id = $4, pending_tokens = $5::jsonb, pending_offset = 0, updated_at = $6
          WHERE job_id = $1 AND last_user_id IS NOT DISTINCT FROM $2::uuid AND next_batch_no = $3 AND done_at IS NULL`,
        [jobId, cp.last_user_id, cp.next_batch_no, lastUser, JSON.stringify(pending), now()],
      );
      if (rowCount !== 1) return undefined;
      const entries = who.broadcast ? 0 : await inbox.addEntries(client as PoolClient, jobId, ids);
      await client.query(
        `UPDATE notification_jobs SET target_count = target_count + $2, inbox_count = inbox_count + $3, updated_at = $4 WHERE id = $1`,
        // A broadcast is one row that each of these users sees in their inbox: it counts once per user reached.
        [jobId, users.length, who.broadcast ? users.length : entries, now()],
      );
      if (!live || who.broadcast) return { entryIds: undefined };
      // Each user's own entry id, for what the inbox would show as new (not already read or deleted).
      const { rows: written } = await client.query<{ user_id: string; id: string }>(
        `SELECT user_id, id::text AS id FROM inbox_entries WHERE job_id = $1 AND user_id = ANY($2::uuid[]) AND deleted_at IS NULL AND read_at IS NULL`,
        [jobId, ids],
      );
      return { entryIds: Object.fromEntries(written.map((w) => [w.user_id, w.id])) };
    });
    if (!taken) return result(false, true);
    if (taken.entryIds && Object.keys(taken.entryIds).length > 0) announce({ v: 1, kind: 'entries', entryIds: taken.entryIds, entry: item });
    cp = { ...cp, last_user_id: lastUser, pending_tokens: pending, pending_offset: 0 };
  }
}

async function readCheckpoint(db: PgHandle, jobId: string): Promise<CheckpointRow> {
  const { rows } = await db.query<CheckpointRow>(
    `SELECT last_user_id, next_batch_no, pending_tokens, pending_offset, token_count, done_at FROM fanout_checkpoints WHERE job_id = $1`,
    [jobId],
  );
  const cp = rows[0];
  if (!cp) throw new Error(`fan-out checkpoint of ${jobId} missing`);
  return cp;
}

async function totals(db: PgHandle, jobId: string): Promise<NonNullable<FanOutResult['totals']>> {
  const { rows } = await db.query<{ batches: number; tokens: number; targets: number; inbox: number }>(
    `SELECT c.next_batch_no AS batches, c.token_count AS tokens, j.target_count AS targets, j.inbox_count AS inbox
       FROM fanout_checkpoints c JOIN notification_jobs j ON j.id = c.job_id WHERE c.job_id = $1`,
    [jobId],
  );
  const r = rows[0]!;
  return { batches: r.batches, tokens: r.tokens, targets: r.targets, inboxEntries: r.inbox };
}
