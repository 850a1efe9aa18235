// A job's content as its batches are sent (queue, title, body, data, its type's TTL and collapse key), read once
// per job: the content never changes once accepted; the type's TTL and collapse key are kept as first read (an edit
// of the type says so to its author, see src/reference/notification-type-edits.ts).
import type { PriorityQueue } from '../domain/priority.js';
import { PRIORITY_QUEUES } from '../domain/priority.js';
import type { FcmNotification } from '../adapters/fcm/fcm-message.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';

export interface JobSettings {
  queue: PriorityQueue;
  title: string;
  body: string;
  data: Record<string, unknown> | null;
  type: string;
  ttl_seconds: number;
  collapse_key: string | null;
}

/** Jobs whose settings a handler keeps (a few jobs are in flight at once; each is read again after eviction). */
const JOB_CACHE_SIZE = 256;

/** The settings of the jobs a handler is sending, read from PostgreSQL on first use (undefined: no such job). */
export function jobSettingsCache(): (db: PgHandle, jobId: string) => Promise<JobSettings | undefined> {
  const jobs = new Map<string, JobSettings>();
  return async (db, jobId) => {
    const known = jobs.get(jobId);
    if (known) return known;
    const { rows } = await db.query<JobSettings>(
      `SELECT j.queue, j.title, j.body, j.data, j.type, t.ttl_seconds, t.collapse_key
         FROM notification_jobs j JOIN notification_types t ON t.code = j.type WHERE j.id = $1`,
      [jobId],
    );
    const job = rows[0];
    if (!job) return undefined;
    if (jobs.size >= JOB_CACHE_SIZE) jobs.delete(jobs.keys().next().value!);
    jobs.set(jobId, job);
    return job;
  };
}

/** The job's queue, 'normal' for one this worker does not know. */
export function jobQueue(job: JobSettings): PriorityQueue {
  return (PRIORITY_QUEUES as readonly string[]).includes(job.queue) ? job.queue : 'normal';
}

/** What every token of the job is sent (FCM data values are strings). */
export function jobNotification(jobId: string, queue: PriorityQueue, job: JobSettings): FcmNotification {
  return {
    jobId,
    queue,
    type: { code: job.type, ttlSeconds: job.ttl_seconds, collapseKey: job.collapse_key },
    title: job.title,
    body: job.body,
    data: Object.fromEntries(Object.entries(job.data ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
  };
}
