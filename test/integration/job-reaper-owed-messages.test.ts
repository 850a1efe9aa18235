// The job reaper and a batch whose outcome was recorded but whose retry was never confirmed (its delivery died in
// between): the reaper publishes the retry the batch owes, clears it, and leaves the tokens to come back through the
// retry queue instead of counting them as lost. Against the real PostgreSQL (a database of this file), with a
// recording broker.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, RetryOptions } from '../../src/adapters/broker/broker.js';
import { SystemClock } from '../../src/clock.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { reapStalledJobs } from '../../src/dispatch/job-reaper.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await pool.query(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.reaper', 'admin', now())`);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('job reaper and owed messages', () => {
  it('publishes the retry a recorded batch still owes and does not count its tokens as lost', async () => {
    // One batch of two tokens recorded an hour ago: one sent, one to retry — the retry never confirmed.
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, state, sent_count, retried_count, created_at, updated_at)
       SELECT gen_random_uuid(), id, 'admin', '{"kind":"everyone"}', 'bill_due', 'normal', 't', 'b', '\\x00', 'sending', 1, 1, now() - interval '1 hour', now() - interval '1 hour'
         FROM users WHERE role = 'admin' RETURNING id`,
    );
    const job = rows[0]!.id;
    const retryId = `${job}:0:r1`;
    const followups = [
      {
        kind: 'retry',
        queue: 'normal',
        body: { kind: 'push-batch', jobId: job, batchNo: 0, tokens: [{ sessionId: 's2', token: 't2' }], batchId: retryId, attempt: 1 },
        options: { messageId: retryId, headers: { 'x-job-id': job }, attempt: 1, delayMs: 1_000, reason: 'UNAVAILABLE' },
      },
    ];
    await pool.query(`INSERT INTO fanout_checkpoints (job_id, next_batch_no, token_count, done_at, updated_at) VALUES ($1, 1, 2, now() - interval '1 hour', now() - interval '1 hour')`, [job]);
    await pool.query(`INSERT INTO sent_batches (batch_id, job_id, done_at, followups) VALUES ($1, $2, now() - interval '1 hour', $3)`, [`${job}:0`, job, JSON.stringify(followups)]);

    const retried: Array<{ messageId: string; body: unknown; options: RetryOptions }> = [];
    const broker = {
      retry: (_queue: string, body: Buffer, options: RetryOptions) => {
        retried.push({ messageId: options.messageId, body: JSON.parse(body.toString()), options });
        return Promise.resolve();
      },
    } as unknown as Broker;
    const result = await reapStalledJobs({ db: async () => poolHandle(pool), broker: async () => broker, clock: new SystemClock() }, 60_000);

    expect(result).toMatchObject({ completed: 1, settled: 0, lostTokens: 0 });
    expect(retried).toEqual([{ messageId: retryId, body: followups[0]!.body, options: followups[0]!.options }]);
    const { rows: batch } = await pool.query(`SELECT followups FROM sent_batches WHERE batch_id = $1`, [`${job}:0`]);
    expect(batch).toEqual([{ followups: null }]);
    const { rows: after } = await pool.query(`SELECT state, failed_count, updated_at > now() - interval '1 minute' AS progressed FROM notification_jobs WHERE id = $1`, [job]);
    expect(after).toEqual([{ state: 'sending', failed_count: 0, progressed: true }]);
    // A second pass finds nothing to do: the job progressed and the batch owes nothing more.
    expect(await reapStalledJobs({ db: async () => poolHandle(pool), broker: async () => broker, clock: new SystemClock() }, 60_000)).toMatchObject({ completed: 0, settled: 0 });
  });
});
