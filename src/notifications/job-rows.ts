// Writing a notification job and its outbox row: the one insert that agents' and admins' jobs and the product's own
// (system) jobs share, so both reach the relay, the fan-out and the job reaper the same way.
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { PriorityQueue } from '../domain/priority.js';
import type { JobMessage } from '../domain/job-message.js';
import type { NotificationTarget } from '../domain/notification-request.js';


export interface JobRow {
  readonly id: string;
  /** The user whose act caused the job: the sender, or (system jobs) the customer or agent whose act it follows. */
  readonly createdBy: string;
  readonly callerRole: 'agent' | 'admin' | 'system';
  /** The agent's agency; null for admins and system jobs. */
  readonly callerAgency: string | null;
  readonly target: NotificationTarget;
  readonly type: string;
  readonly queue: PriorityQueue;
  readonly title: string;
  readonly body: string;
  readonly data: Readonly<Record<string, string>>;
  readonly idempotencyKey: string | null;
  readonly requestHash: Buffer;
  readonly at: Date;
}

/**
 * Inserts the job and, when it was new, its outbox row, on the caller's transaction. False when another job of the
 * same creator holds the idempotency key (nothing written): the caller answers with that job.
 */
export async function insertJobWithOutbox(client: Queryable, job: JobRow): Promise<boolean> {
  const inserted = await client.query(
    `INSERT INTO notification_jobs (id, created_by, caller_role, caller_agency, target, type, queue, title, body, data, idempotency_key, request_hash, state, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'accepted', $13, $13)
     ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING id`,
    [job.id, job.createdBy, job.callerRole, job.callerAgency, JSON.stringify(job.target), job.type, job.queue, job.title, job.body, JSON.stringify(job.data), job.idempotencyKey, job.requestHash, job.at],
  );
  if (inserted.rowCount === 0) return false;
  const message: JobMessage = { kind: 'notification-job', jobId: job.id, type: job.type, queue: job.queue };
  await client.query(`INSERT INTO outbox (job_id, queue, payload, created_at) VALUES ($1, $2, $3, $4)`, [job.id, job.queue, JSON.stringify(message), job.at]);
  return true;
}
