// The purge the worker's job reaper runs: the dedupe rows (sent_batches, batch_claims, batch_progress) of jobs finished
// more than DISPATCH_PURGE_AFTER_DAYS ago go, those of recent or unsettled jobs stay; nodes gone for as long go; SMS
// budget rows of past days go, today's stay. Against the real PostgreSQL (a database of this file).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { purgeFinished } from '../../src/dispatch/purge.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

let db: TestDatabase;
let pool: pg.Pool;
const now = new Date('2026-12-03T10:00:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);

/** A job in `state`, last updated `age` days before now, with one recorded batch and its finished claim. */
async function jobWithBatch(state: string, age: number): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH j AS (
       INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, state, created_at, updated_at)
       SELECT gen_random_uuid(), id, 'admin', '{"kind":"everyone"}', 'bill_due', 'normal', 't', 'b', '\\x00', $1, $2, $2 FROM users WHERE role = 'admin' LIMIT 1
       RETURNING id
     ), b AS (
       INSERT INTO sent_batches (batch_id, job_id, done_at) SELECT id || ':0', id, $2 FROM j
     ), c AS (
       INSERT INTO batch_claims (batch_id, job_id, claimed_by, expires_at) SELECT id || ':0', id, 'worker:1', 'infinity' FROM j
     ), p AS (
       -- a step left by a holder whose copy of the batch was taken over and recorded by another
       INSERT INTO batch_progress (batch_id, job_id, answers) SELECT id || ':0', id, '[[0,"s"]]' FROM j
     )
     SELECT id FROM j`,
    [state, daysAgo(age)],
  );
  return rows[0]!.id;
}

const batchesOf = async (table: string): Promise<string[]> => (await pool.query<{ job_id: string }>(`SELECT job_id FROM ${table} ORDER BY job_id`)).rows.map((r) => r.job_id);

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await pool.query(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.purge', 'admin', now())`);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('purge of finished work', () => {
  it('deletes the batch rows of jobs finished more than the configured days ago and SMS budget rows of past days, keeping the rest', async () => {
    const oldDone = await jobWithBatch('done', 31);
    const oldFailed = await jobWithBatch('failed', 45);
    const recentDone = await jobWithBatch('done', 29);
    const oldUnsettled = await jobWithBatch('sending', 60);
    await pool.query(`INSERT INTO sms_budget (day, phone, sent) VALUES ('2026-12-01', '+221770000001', 2), ('2026-12-02', '*', 9), ('2026-12-03', '+221770000001', 1), ('2026-12-03', '*', 4)`);
    // The node registry: a node gone 40 days ago goes, one stopped yesterday stays.
    await pool.query(
      `INSERT INTO nodes (node_id, incarnation, role, host, pid, started_at, heartbeat_at, alive_until, stopped_at)
       VALUES ('gone', gen_random_uuid(), 'worker', 'h', 1, $1, $1, $1, NULL), ('yesterday', gen_random_uuid(), 'api', 'h', 2, $2, $2, $2, $2)`,
      [daysAgo(40), daysAgo(1)],
    );

    const result = await purgeFinished(poolHandle(pool), now, 30);

    expect(result).toEqual({ sentBatches: 2, batchClaims: 2, batchProgress: 2, nodes: 1, smsBudget: 2 });
    const kept = [recentDone, oldUnsettled].sort();
    expect(await batchesOf('sent_batches')).toEqual(kept);
    expect(await batchesOf('batch_claims')).toEqual(kept);
    expect(await batchesOf('batch_progress')).toEqual(kept);
    expect((await pool.query(`SELECT node_id FROM nodes`)).rows).toEqual([{ node_id: 'yesterday' }]);
    expect(kept).not.toContain(oldDone);
    expect(kept).not.toContain(oldFailed);
    const { rows } = await pool.query<{ day: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM sms_budget ORDER BY phone`);
    expect(rows.map((r) => r.day)).toEqual(['2026-12-03', '2026-12-03']);
    // The jobs themselves stay (their counts are the record).
    expect((await pool.query(`SELECT count(*)::int AS n FROM notification_jobs`)).rows[0]).toEqual({ n: 4 });
  });
});
