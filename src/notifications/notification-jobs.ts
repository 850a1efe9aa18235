// Accepting notification jobs and reading their status. Accepting writes the job and its outbox row in ONE
// transaction (the outbox relay publishes it later, so RabbitMQ being down never loses an accepted job).
// Rules (DOMAIN.md): agents send to users and meters of their own agency or to that agency; only admins send to all
// agencies or everyone; the type decides the queue, a caller may lower it, only an admin may raise it.
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { priorityRank, type PriorityQueue } from '../domain/priority.js';
import type { Clock } from '../clock.js';
import type { Caller } from '../contracts/caller.js';
import type { AcceptedJob, JobState, JobStatus } from '../contracts/notifications-messages.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { ValidationError, type ProblemField } from '../errors/app-error.js';
import { loadNotificationTypes } from './notification-types.js';
import { IdempotencyConflictError, NotificationForbiddenError, NotificationJobNotFoundError } from './notification-errors.js';
import { normaliseRequest, requestHash, type NotificationRequest, type NotificationTarget } from '../domain/notification-request.js';
import { insertJobWithOutbox } from './job-rows.js';

export interface NotificationJobDeps {
  db(): Promise<PgHandle>;
  readonly clock: Clock;
  /** @defaultValue crypto.randomUUID */
  readonly newId?: () => string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface JobRow {
  id: string;
  caller_agency: string | null;
  target: NotificationTarget;
  type: string;
  queue: PriorityQueue;
  state: JobState;
  created_at: Date;
  target_count: number;
  inbox_count: number;
  sent_count: number;
  retried_count: number;
  failed_count: number;
  tokens_removed_count: number;
  failure_reason: string | null;
}

export class NotificationJobService {
  private readonly newId: () => string;

  constructor(private readonly deps: NotificationJobDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  /**
   * Accepts a job: checks who may send what, then writes the job and its outbox row in one transaction. The input's
   * form (FCM's data keys and size limit included) was checked at the edge (notificationRequestBody); the checks that
   * need the database (the type, the targeted users and agency) are here.
   */
  async accept(caller: Caller, input: NotificationRequest): Promise<AcceptedJob> {
    if (caller.role === 'customer') throw new NotificationForbiddenError('role', 'Only agents and admins send notifications.');
    if (caller.role === 'agent' && !caller.agency) throw new NotificationForbiddenError('role', 'An agent without an agency cannot send notifications.');
    checkTargetWithoutData(caller, input.target);

    const target = normaliseRequest(input) as { target: NotificationTarget };
    const hash = requestHash(input);
    const key = input.idempotencyKey ?? null;
    const db = await this.deps.db();
    return db.transaction(async (client) => {
      if (key !== null) {
        const earlier = await sameKey(client, caller.userId, key, hash);
        if (earlier) return earlier;
      }
      const queue = await this.resolveQueue(client, caller, input);
      await checkTargetUsers(client, caller, input.target);

      const id = this.newId();
      const now = new Date(this.deps.clock.now());
      const job = {
        id,
        createdBy: caller.userId,
        // Customers were refused above.
        callerRole: caller.role === 'admin' ? ('admin' as const) : ('agent' as const),
        callerAgency: caller.role === 'agent' ? caller.agency : null,
        target: target.target,
        type: input.type,
        queue,
        title: input.title,
        body: input.body,
        data: input.data,
        idempotencyKey: key,
        requestHash: hash,
        at: now,
      };
      if (!(await insertJobWithOutbox(client, job))) {
        // A concurrent request with the same key committed first: answer as if it had come first.
        const earlier = await sameKey(client, caller.userId, key!, hash);
        if (earlier) return earlier;
        throw new Error('idempotency key conflict without a row'); // unreachable: the unique index held a row
      }
      return { jobId: id, replayed: false };
    });
  }

  /** State and counts of a job: its creator's agency (agents) or any admin may read it; anyone else gets 404. */
  async status(caller: Caller, jobId: string): Promise<JobStatus> {
    if (!UUID.test(jobId) || caller.role === 'customer') throw new NotificationJobNotFoundError();
    const db = await this.deps.db();
    const { rows } = await db.query<JobRow>(
      `SELECT id, caller_agency, target, type, queue, state, created_at, target_count, inbox_count, sent_count, retried_count, failed_count, tokens_removed_count,
              failure_reason
         FROM notification_jobs WHERE id = $1`,
      [jobId],
    );
    const row = rows[0];
    if (!row) throw new NotificationJobNotFoundError();
    if (caller.role !== 'admin' && (caller.agency === null || row.caller_agency !== caller.agency)) throw new NotificationJobNotFoundError();
    return {
      id: row.id,
      state: row.state,
      type: row.type,
      queue: row.queue,
      target: row.target,
      createdAt: row.created_at.toISOString(),
      counts: {
        targets: row.target_count,
        inboxEntries: row.inbox_count,
        sent: row.sent_count,
        retried: row.retried_count,
        failed: row.failed_count,
        tokensRemoved: row.tokens_removed_count,
      },
      ...(row.failure_reason !== null ? { failureReason: row.failure_reason } : {}),
    };
  }

  /** The type's queue, or the one asked for: lower for anyone, higher only for an admin. */
  private async resolveQueue(client: PoolClient, caller: Caller, input: NotificationRequest): Promise<PriorityQueue> {
    // Read fresh in the transaction, not through the reference actor's 60 s cache: a type added is usable at once.
    const typeQueue = (await loadNotificationTypes(client, input.type))[0]?.queue;
    if (!typeQueue) throw new ValidationError([{ path: 'body.type', message: `unknown notification type "${input.type}"` }]);
    const wanted = input.priority ?? typeQueue;
    if (priorityRank(wanted) < priorityRank(typeQueue) && caller.role !== 'admin') {
      throw new NotificationForbiddenError('priority', `Only an admin may raise the priority of "${input.type}" above ${typeQueue}.`);
    }
    return wanted;
  }
}

/** The job of an earlier request with this key: the same job for the same request, else a 409. */
async function sameKey(client: PoolClient, userId: string, key: string, hash: Buffer): Promise<AcceptedJob | undefined> {
  const { rows } = await client.query<{ id: string; request_hash: Buffer }>(
    `SELECT id, request_hash FROM notification_jobs WHERE created_by = $1 AND idempotency_key = $2`,
    [userId, key],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (!row.request_hash.equals(hash)) throw new IdempotencyConflictError(row.id);
  return { jobId: row.id, replayed: true };
}

/** The target rules that need no database: broadcasts are for admins, an agent's agency is their own. */
function checkTargetWithoutData(caller: Caller, target: NotificationTarget): void {
  if (caller.role === 'admin') return;
  if (target.kind === 'everyone' || target.kind === 'all_agencies') {
    throw new NotificationForbiddenError('target', target.kind === 'everyone' ? 'Only an admin may send to everyone.' : 'Only an admin may send to all agencies.');
  }
  if (target.kind === 'agency' && target.agency !== caller.agency) throw new NotificationForbiddenError('target', 'An agent sends only to their own agency.');
}

/**
 * The targeted users and agency must exist; an agent's users must belong to the agent's agency, by their account
 * (users.agency_code) or through an active meter link of that agency (0015_meter_links.sql), and an agent's meter must
 * have an active link in that agency. An agent gets the same 403 for an unknown user or meter as for another agency's,
 * so ids cannot be probed. An admin may name any meter: one nobody holds reaches no one.
 */
async function checkTargetUsers(client: PoolClient, caller: Caller, target: NotificationTarget): Promise<void> {
  if (target.kind === 'agency') {
    if (caller.role !== 'admin') return; // checked: the agent's own agency
    const { rowCount } = await client.query(`SELECT 1 FROM agencies WHERE code = $1`, [target.agency]);
    if (!rowCount) throw new ValidationError([{ path: 'body.target.agency', message: `unknown agency "${target.agency}"` }]);
    return;
  }
  if (target.kind === 'meter') {
    if (caller.role === 'admin') return;
    const { rowCount } = await client.query(`SELECT 1 FROM meter_links WHERE meter = $1 AND state = 'active' AND agency_code = $2 LIMIT 1`, [target.meter, caller.agency]);
    if (!rowCount) throw new NotificationForbiddenError('target', 'An agent sends only to meters of their own agency.');
    return;
  }
  if (target.kind !== 'user' && target.kind !== 'users') return;
  const ids = target.kind === 'user' ? [target.userId] : target.userIds;
  const unique = [...new Set(ids.map((i) => i.toLowerCase()))];
  const { rows } = await client.query<{ id: string; in_agency: boolean }>(
    `SELECT u.id, (u.agency_code = $2 OR EXISTS (SELECT 1 FROM meter_links l WHERE l.user_id = u.id AND l.state = 'active' AND l.agency_code = $2)) IS TRUE AS in_agency
       FROM users u WHERE u.id = ANY($1::uuid[]) AND u.deleted_at IS NULL`,
    [unique, caller.agency],
  );
  const found = new Map(rows.map((r) => [r.id.toLowerCase(), r.in_agency]));
  if (caller.role !== 'admin') {
    if (unique.some((id) => found.get(id) !== true)) throw new NotificationForbiddenError('target', 'An agent sends only to users of their own agency.');
    return;
  }
  const fields: ProblemField[] = [];
  ids.forEach((id, i) => {
    if (!found.has(id.toLowerCase())) fields.push({ path: target.kind === 'user' ? 'body.target.userId' : `body.target.userIds.${i}`, message: 'no such user' });
  });
  if (fields.length) throw new ValidationError(fields);
}
