// ops/backup: pg-backup.sh dumps a database the app has written to (customers and devices, and notification jobs
// accepted through the API with their outbox rows), pg-restore.sh restores the dump into a new database on the same
// PostgreSQL, and every table of the restored database holds exactly the rows of the original; the app then serves
// the restored job. Also: retention by count, a failed dump that deletes nothing, and a restore that refuses to
// overwrite a database in use unless told.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const BACKUP = join(import.meta.dirname, '../../ops/backup');
const scratch = mkdtempSync(join(tmpdir(), 'samaconso-backup-'));

/** Runs a backup script with libpq's variables pointing at the test's PostgreSQL (as the scripts expect). */
async function script(name: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const server = new URL(servicesEnv().TEST_DATABASE_URL);
  const libpq = { PGHOST: server.hostname, PGPORT: server.port, PGUSER: decodeURIComponent(server.username), PG_BIN: servicesEnv().TEST_PG_BIN_DIR };
  try {
    const { stdout, stderr } = await run('bash', [join(BACKUP, name), ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...libpq, ...env }, timeout: 120_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

async function withClient<T>(url: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await use(c);
  } finally {
    await c.end();
  }
}

/** Every table outside PostgreSQL's own schemas, with its row count and a digest of all its rows (in a fixed order). */
async function contents(url: string): Promise<Record<string, { rows: number; digest: string }>> {
  return withClient(url, async (c) => {
    const { rows: tables } = await c.query<{ name: string }>(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    const out: Record<string, { rows: number; digest: string }> = {};
    for (const { name } of tables) {
      const { rows } = await c.query<{ rows: number; digest: string }>(`SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS digest FROM ${name} t`);
      out[name] = rows[0]!;
    }
    return out;
  });
}

const databaseUrl = (name: string) => {
  const url = new URL(servicesEnv().TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
};
const dropDatabase = (name: string) => withClient(servicesEnv().TEST_DATABASE_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

describe('PostgreSQL backup and restore (ops/backup)', () => {
  let source: TestDatabase;
  const restored = `restored_${randomBytes(5).toString('hex')}`;
  const dir = join(scratch, 'dumps');
  const jobIds: string[] = [];
  let adminToken: string;

  beforeAll(async () => {
    source = await createTestDatabase();
    const adminId = '00000000-0000-4000-8000-0000000ad001';
    await withClient(source.url, async (c) => {
      await c.query(`INSERT INTO agencies (code, name) VALUES ('DAKAR-PLATEAU', 'Dakar Plateau') ON CONFLICT DO NOTHING`);
      await c.query(`INSERT INTO users (id, ldap_login, role, created_at) VALUES ($1, 'admin.backup', 'admin', now())`, [adminId]);
      await c.query(
        `INSERT INTO users (id, phone, first_name, last_name, role, agency_code, phone_proved_at, created_at) VALUES
           ('00000000-0000-4000-8000-00000000b001', '+221771230001', 'Awa', 'Diop', 'customer', 'DAKAR-PLATEAU', now(), now()),
           ('00000000-0000-4000-8000-00000000b002', '+221771230002', 'Moussa', 'Ndiaye', 'customer', 'DAKAR-PLATEAU', now(), now())`,
      );
      await c.query(
        `INSERT INTO device_sessions (id, user_id, family, device_model, platform, push_token, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
         VALUES (gen_random_uuid(), '00000000-0000-4000-8000-00000000b001', gen_random_uuid(), 'Phone', 'android', 'fcm-token-b001', '\\x01', now(), now() + interval '30 days', now(), now(), 'active')`,
      );
    });
    // Notification jobs accepted by the app itself: its rows in notification_jobs and outbox, as production writes them.
    adminToken = await mintToken({ role: 'admin', sub: adminId });
    const node = await startTestNode({ DATABASE_URL: source.url });
    try {
      await waitFor('ready', () => node.runtime.readiness('test').ready, 30_000);
      for (const title of ['Coupure prévue', 'Retour du courant']) {
        const res = await fetch(`${node.apiUrl}/v1/notifications`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ target: { kind: 'agency', agency: 'DAKAR-PLATEAU' }, type: 'planned_works', title, body: `${title} à Dakar Plateau.` }),
        });
        expect(res.status).toBe(202);
        jobIds.push(((await res.json()) as { jobId: string }).jobId);
      }
    } finally {
      await node.stop();
    }
  });
  afterAll(async () => {
    await dropDatabase(restored);
    await source?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('restores a dump into a scratch database holding exactly the rows of every table, which the app then serves', async () => {
    const original = await contents(source.url);
    expect(original['public.users']!.rows).toBe(3);
    expect(original['public.device_sessions']!.rows).toBe(1);
    expect(original['public.notification_jobs']!.rows).toBe(2);
    expect(original['public.pgmigrations']!.rows).toBeGreaterThan(10);

    const backup = await script('pg-backup.sh', [source.name], { BACKUP_DIR: dir, BACKUP_KEEP: '3' });
    expect(backup, backup.out).toMatchObject({ code: 0 });
    const [dump] = readdirSync(dir);
    expect(dump).toMatch(new RegExp(`^${source.name}-\\d{8}T\\d{6}\\.\\d{3}Z\\.dump$`));

    const restore = await script('pg-restore.sh', [join(dir, dump!), restored]);
    expect(restore, restore.out).toMatchObject({ code: 0 });
    expect(restore.out).toContain(`created database ${restored}`);
    expect(await contents(databaseUrl(restored))).toEqual(original);

    // The restored database is one the app runs on: the admin reads a restored job through the API.
    const node = await startTestNode({ DATABASE_URL: databaseUrl(restored) });
    try {
      await waitFor('ready on the restored database', () => node.runtime.readiness('test').ready, 30_000);
      const res = await fetch(`${node.apiUrl}/v1/notifications/${jobIds[0]}`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: jobIds[0], type: 'planned_works', target: { kind: 'agency', agency: 'DAKAR-PLATEAU' } });
    } finally {
      await node.stop();
    }
  });

  it('refuses to restore over a database that holds tables, leaving it as it was, unless --force is given', async () => {
    const [dump] = readdirSync(dir);
    await withClient(databaseUrl(restored), (c) => c.query(`DELETE FROM device_sessions`));
    const before = await contents(databaseUrl(restored));
    const refused = await script('pg-restore.sh', [join(dir, dump!), restored]);
    expect(refused.code).toBe(3);
    expect(refused.out).toMatch(new RegExp(`database ${restored} is not empty \\(\\d+ relations\\); refusing to overwrite it`));
    expect(await contents(databaseUrl(restored))).toEqual(before);

    const forced = await script('pg-restore.sh', ['--force', join(dir, dump!), restored]);
    expect(forced, forced.out).toMatchObject({ code: 0 });
    expect((await contents(databaseUrl(restored)))['public.device_sessions']!.rows).toBe(1);
  });

  it('keeps the newest BACKUP_KEEP dumps, and a failed dump leaves no file and deletes none', async () => {
    const kept = join(scratch, 'kept');
    for (let i = 0; i < 3; i++) expect(await script('pg-backup.sh', [source.name], { BACKUP_DIR: kept, BACKUP_KEEP: '2' })).toMatchObject({ code: 0 });
    const names = readdirSync(kept).sort();
    expect(names).toHaveLength(2);

    const failed = await script('pg-backup.sh', ['no_such_database'], { BACKUP_DIR: kept, BACKUP_KEEP: '1' });
    expect(failed.code).not.toBe(0);
    expect(failed.out).toContain('no_such_database');
    expect(readdirSync(kept).sort()).toEqual(names);

    const third = await script('pg-backup.sh', [source.name], { BACKUP_DIR: kept, BACKUP_KEEP: '2' });
    expect(third.out).toContain(`removed ${names[0]}`);
    expect(readdirSync(kept).sort()).toEqual([names[1], /wrote \S+\/(\S+\.dump)/.exec(third.out)![1]]);
  });
});
