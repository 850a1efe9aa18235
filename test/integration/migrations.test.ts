import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate } from '../../src/adapters/postgres/migrate.js';
import { type TestDatabase, createEmptyDatabase } from '../support/services.js';

describe('migrations', () => {
  let db: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    db = await createEmptyDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  const snapshot = async (): Promise<unknown[]> => {
    const types = await client.query('SELECT * FROM notification_types ORDER BY code');
    const runs = await client.query('SELECT id, name, run_on FROM pgmigrations ORDER BY id');
    return [types.rows, runs.rows];
  };

  it('apply on an empty database: tables exist and notification types are seeded with their queue', async () => {
    const { applied } = await migrate({ databaseUrl: db.url });
    // Every migration file, in order, and nothing else.
    const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort().map((f) => f.replace(/\.sql$/, ''));
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(applied).toEqual(files);

    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    // The tables each migration promises (later migrations add more; this list grows with them).
    expect(tables.rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['notification_types', 'pgmigrations', 'queue_pauses', 'agencies', 'users', 'device_sessions', 'used_refresh_tokens', 'one_time_codes', 'login_failures', 'sms_budget', 'audit_log', 'notification_jobs', 'outbox', 'inbox_entries', 'broadcasts', 'broadcast_reads', 'fanout_checkpoints']),
    );

    const types = await client.query<{ code: string; queue: string }>('SELECT code, queue FROM notification_types');
    const queueOf = new Map(types.rows.map((row) => [row.code, row.queue]));
    expect(queueOf.get('outage')).toBe('urgent');
    expect(queueOf.get('campaign')).toBe('low_priority');
    expect(new Set(queueOf.values())).toEqual(new Set(['urgent', 'high_priority', 'normal', 'low_priority']));
  });

  it('a second run applies nothing and changes nothing', async () => {
    const before = await snapshot();
    const { applied } = await migrate({ databaseUrl: db.url });
    expect(applied).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('the queue check rejects an unknown queue', async () => {
    await expect(
      client.query("INSERT INTO queue_pauses (queue, paused_at, paused_by, reason) VALUES ('bulk', now(), 'test', 'x')"),
    ).rejects.toThrow(/check constraint/);
  });
});
