// What /admin/queues, /admin/dead-letters and /admin/jobs read: the broker's counters per queue with the pauses, the
// dead letters (and their replay), and recent jobs.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { DeadLetterView } from '../adapters/broker/dead-letter-browser.js';
import { ReplayInterruptedError, type ReplayResult, type ReplaySelection } from '../adapters/broker/dead-letter-replay.js';
import type { OnOperation, ReplayOperation } from '../contracts/admin-operation.js';
import type { Caller } from '../contracts/caller.js';
import type { Clock } from '../clock.js';
import { DEAD_LETTER_QUEUE } from '../adapters/broker/topology.js';
import { PRIORITY_QUEUES } from '../domain/priority.js';
import type { ReplayBody, ReplayOutcome, JobSummary, JobsListQuery, JobsPage, QueueOverview } from '../contracts/operations-messages.js';
import type { BrokerManagement } from './broker-management.js';
import { decodeJobCursor, encodeJobCursor } from '../domain/job-cursor.js';
import type { PausedQueues } from '../dispatch/index.js';

export interface BrokerAdminDeps {
  readonly management: BrokerManagement;
  /** Null until pauses exist: `paused` is then null everywhere. */
  readonly paused: PausedQueues | null;
  readonly db: () => Promise<PgHandle>;
  /** Reads the first dead letters without consuming them (src/adapters/broker/dead-letter-browser.ts). */
  readonly browseDeadLetters: (limit: number) => Promise<DeadLetterView[]>;
  /** Sends the selected dead letters back to their queues (src/adapters/broker/dead-letter-replay.ts). */
  readonly replayDeadLetters: (selection: ReplaySelection) => Promise<ReplayResult>;
  readonly clock: Clock;
  /** Records each replay (the operations audit, as for queue pauses); @defaultValue does nothing */
  readonly onOperation?: OnOperation;
}

interface JobRow {
  id: string;
  state: JobSummary['state'];
  type: string;
  queue: string;
  title: string;
  created_at: Date;
  updated_at: Date;
  at_micros: string;
  target_count: number;
  inbox_count: number;
  sent_count: number;
  retried_count: number;
  failed_count: number;
  tokens_removed_count: number;
  failure_reason: string | null;
}

export class BrokerAdminService {
  constructor(private readonly deps: BrokerAdminDeps) {}

  /** One entry per priority queue then the dead-letter queue; BROKER_MANAGEMENT_UNAVAILABLE when it cannot be read. */
  async queues(): Promise<QueueOverview[]> {
    const names = [...PRIORITY_QUEUES, DEAD_LETTER_QUEUE];
    const [counters, paused] = await Promise.all([this.deps.management.queues(names), this.pausedOrNull()]);
    const byName = new Map(counters.map((c) => [c.name, c]));
    return names.map((name) => {
      const c = byName.get(name);
      const kind = name === DEAD_LETTER_QUEUE ? 'dead_letter' : 'priority';
      return {
        name,
        kind,
        ready: c?.ready ?? 0,
        unacked: c?.unacked ?? 0,
        consumers: c?.consumers ?? 0,
        publishRate: c?.publishRate ?? 0,
        deliverRate: c?.deliverRate ?? 0,
        ackRate: c?.ackRate ?? 0,
        published: c?.published ?? 0,
        delivered: c?.delivered ?? 0,
        acked: c?.acked ?? 0,
        paused: kind === 'dead_letter' || !paused ? null : paused.has(name),
      };
    });
  }

  /** Recent jobs, newest first, filtered by state, type and creation time; cursor pages. */
  async jobs(q: JobsListQuery): Promise<JobsPage> {
    const cursor = q.cursor === undefined ? undefined : decodeJobCursor(q.cursor);
    const { rows } = await (await this.deps.db()).query<JobRow>(
      `SELECT id, state, type, queue, title, created_at, updated_at, (extract(epoch FROM created_at) * 1000000)::bigint::text AS at_micros,
              target_count, inbox_count, sent_count, retried_count, failed_count, tokens_removed_count, failure_reason
         FROM notification_jobs
        WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR type = $2) AND ($3::timestamptz IS NULL OR created_at >= $3)
          AND ($4::bigint IS NULL OR (created_at, id) < (to_timestamp($4::bigint / 1000000.0), $5::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $6`,
      [q.state ?? null, q.type ?? null, q.since ?? null, cursor?.atMicros ?? null, cursor?.id ?? null, q.limit + 1],
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        state: r.state,
        type: r.type,
        queue: r.queue,
        title: r.title,
        createdAt: r.created_at.toISOString(),
        updatedAt: r.updated_at.toISOString(),
        counts: { targets: r.target_count, inbox: r.inbox_count, sent: r.sent_count, retried: r.retried_count, failed: r.failed_count, tokensRemoved: r.tokens_removed_count },
        failureReason: r.failure_reason,
      })),
      nextCursor: rows.length > q.limit && last ? encodeJobCursor({ atMicros: last.at_micros, id: last.id }) : null,
    };
  }

  /** The first `limit` dead letters with their reason, attempts, job and token count; none is consumed. */
  deadLetters(limit: number): Promise<DeadLetterView[]> {
    return this.deps.browseDeadLetters(limit);
  }

  /**
   * Replays the selected dead letters to their origin queues and records the operation (who, why, what was sent
   * back), a replay stopped part way too. Like a queue pause, an audit that fails fails the call: the replay stands
   * (asking again replays nothing twice: what was sent back has left the dead-letter queue).
   */
  async replay(caller: Caller, body: ReplayBody): Promise<ReplayOutcome> {
    const selection: ReplaySelection = body.all ? { all: true } : body.jobId !== undefined ? { jobId: body.jobId } : { messageIds: body.messageIds ?? [] };
    const target = 'all' in selection ? 'all' : 'jobId' in selection ? `job:${selection.jobId}` : 'messages';
    const record = (outcome: ReplayOperation['outcome'], detail: Record<string, unknown>): Promise<void> =>
      this.deps.onOperation?.({ action: 'dead-letters.replay', target, actor: caller.userId, actorRole: caller.role, reason: body.reason, at: new Date(this.deps.clock.now()), outcome, detail }) ??
      Promise.resolve();
    let result: ReplayResult;
    try {
      result = await this.deps.replayDeadLetters(selection);
    } catch (e) {
      if (e instanceof ReplayInterruptedError) await record('partial', { selection, replayed: e.replayed.length, messageIds: e.replayed, interrupted: e.message });
      throw e;
    }
    const sent = new Set(result.messageIds);
    const outcome: ReplayOutcome = {
      replayed: result.messageIds.length,
      messageIds: [...result.messageIds],
      skipped: result.skipped,
      notFound: 'messageIds' in selection ? [...new Set(selection.messageIds)].filter((id) => !sent.has(id)) : [],
    };
    await record('ok', { selection, ...outcome });
    return outcome;
  }

  private async pausedOrNull(): Promise<ReadonlySet<string> | null> {
    if (!this.deps.paused) return null;
    return this.deps.paused.pausedQueues().catch(() => null);
  }
}
