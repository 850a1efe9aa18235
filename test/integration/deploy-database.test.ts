// The database side of the deployment files, run by the real programs: the committed pgbouncer.ini started as a
// real PgBouncer (only its ports, paths and target moved) in front of a migrated test database, with the app's own
// node and queries going through it in transaction mode; postgresql.conf loaded by PostgreSQL 15 itself.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { startPrivatePgBouncer, type PgBouncerFiles, type PrivatePgBouncer } from '../support/private-pgbouncer.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const DEPLOY = join(import.meta.dirname, '../../ops/deploy');
const MIGRATIONS = readdirSync(join(import.meta.dirname, '../../src/migrations')).filter((f) => f.endsWith('.sql'));

/**
 * The committed pgbouncer.ini with what only the test may change: the listen port and address, the files (in the
 * test's folder), the one database (the test's), and an admin user for SHOW. Every overridden key must already be
 * in the file, so that a renamed or dropped setting is noticed rather than silently added back.
 */
function committedIni(files: PgBouncerFiles, target: { host: string; port: number; database: string }, admin: string): string {
  const overrides: Record<string, string> = {
    listen_addr: '127.0.0.1',
    listen_port: String(files.port),
    auth_file: files.authFile,
    logfile: files.logFile,
    pidfile: files.pidFile,
    log_connections: '1',
  };
  const seen = new Set<string>();
  let section = '';
  const lines = readFileSync(join(DEPLOY, 'pgbouncer/pgbouncer.ini'), 'utf8').split('\n').flatMap((line) => {
    const header = /^\[(\w+)\]/.exec(line);
    if (header) {
      section = header[1]!;
      return section === 'databases' ? [line, `${target.database} = host=${target.host} port=${target.port} dbname=${target.database}`] : [line];
    }
    const setting = /^\s*([a-z_]+)\s*=/.exec(line);
    if (!setting) return [line];
    if (section === 'databases') return []; // the production target (host postgres) is replaced by the test's
    const key = setting[1]!;
    if (!(key in overrides)) return [line];
    seen.add(key);
    return [`${key} = ${overrides[key]}`];
  });
  expect([...seen].sort()).toEqual(Object.keys(overrides).sort());
  return [...lines, `admin_users = ${admin}`, ''].join('\n');
}

describe('pgbouncer.ini, run by PgBouncer in front of a migrated database', () => {
  const password = randomBytes(12).toString('hex');
  let db: TestDatabase;
  let bouncer: PrivatePgBouncer;
  let node: RunningNode | undefined;
  const client = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const direct = new URL(db.url);
    const target = { host: direct.hostname, port: Number(direct.port), database: db.name };
    // The test's PostgreSQL trusts its `postgres` user; the client still has to pass PgBouncer's SCRAM check.
    bouncer = await startPrivatePgBouncer(target, { user: 'postgres', password, ini: (files) => committedIni(files, target, 'postgres') });
  });
  afterAll(async () => {
    await node?.stop();
    await bouncer?.stop();
    await db?.drop();
  });

  it('pools by transaction and checks passwords with SCRAM, as committed (seen on its admin console)', async () => {
    const admin = await client(bouncer.url.replace(/\/[^/]+$/, '/pgbouncer'));
    try {
      const config = new Map((await admin.query<{ key: string; value: string }>('SHOW CONFIG')).rows.map((r) => [r.key, r.value]));
      expect(config.get('pool_mode')).toBe('transaction');
      expect(config.get('auth_type')).toBe('scram-sha-256');
      expect(config.get('default_pool_size')).toBe('20');
      const pools = (await admin.query<{ database: string; pool_mode: string }>('SHOW POOLS')).rows.filter((p) => p.database === db.name);
      expect(pools.map((p) => p.pool_mode)).toEqual(['transaction']);
    } finally {
      await admin.end();
    }
    const wrong = new pg.Client({ connectionString: bouncer.url.replace(password, 'not-the-password') });
    wrong.on('error', () => undefined);
    // PgBouncer 1.18 answers a failed SCRAM exchange with 08P01 (PostgreSQL itself would say 28P01).
    await expect(wrong.connect()).rejects.toMatchObject({ message: 'SASL authentication failed' });
    await wrong.end().catch(() => undefined);
  });

  it('a migrated database answers through it, and parameterised (unnamed-statement) transactions round-trip', async () => {
    const c = await client(bouncer.url);
    try {
      const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pgmigrations');
      expect(rows[0]!.n).toBe(MIGRATIONS.length);
      const id = '0e4b7c4e-5a55-4d38-9a55-5f5b1f6f0a01';
      await c.query('BEGIN');
      await c.query("INSERT INTO users (id, phone, role, created_at) VALUES ($1, $2, 'customer', now())", [id, '+221770000001']);
      const inside = await c.query<{ phone: string }>('SELECT phone FROM users WHERE id = $1', [id]);
      await c.query('COMMIT');
      expect(inside.rows).toEqual([{ phone: '+221770000001' }]);
      const after = await c.query<{ phone: string }>('SELECT phone FROM users WHERE id = $1', [id]);
      expect(after.rows).toEqual([{ phone: '+221770000001' }]);
    } finally {
      await c.end();
    }
    expect(bouncer.log()).toMatch(/login attempt: db=\S+ user=postgres tls=no/);
  });

  it("the app's node runs on it: ready, serving reference data read through PgBouncer, and the image's health check passes on its ops port", async () => {
    node = await startTestNode({ DATABASE_URL: bouncer.url, DATABASE_MIGRATION_URL: db.url, REDIS_URL: undefined });
    await waitFor('ready behind the committed PgBouncer', () => node!.runtime.readiness('test').ready, 30_000);
    const res = await fetch(`${node.apiUrl}/v1/notification-types`, { headers: { authorization: `Bearer ${await mintToken({ role: 'customer' })}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Array<{ code: string }>).map((t) => t.code)).toContain('outage');
    expect(bouncer.log()).not.toMatch(/unsupported startup parameter|08P01/i);
    const opsPort = new URL(node.opsUrl).port;
    await expect(run(process.execPath, [join(DEPLOY, 'healthcheck.mjs')], { env: { OPS_PORT: opsPort } })).resolves.toBeDefined();
  });
});

describe('postgresql.conf, loaded by PostgreSQL 15', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'samaconso-pgconf-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** `postgres -C <setting>` with the given file as config_file over the test cluster's data folder (read only). */
  async function loaded(confText: string, setting: string): Promise<{ code: number; out: string }> {
    chmodSync(scratch, 0o755); // the postgres user must read it
    const conf = join(scratch, `postgresql-${randomBytes(4).toString('hex')}.conf`);
    writeFileSync(conf, confText, { mode: 0o644 });
    const admin = new pg.Client({ connectionString: servicesEnv().TEST_DATABASE_URL });
    await admin.connect();
    const dataDir = (await admin.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
    await admin.end();
    const postgres = join(servicesEnv().TEST_PG_BIN_DIR, 'postgres');
    const argv = ['-D', dataDir, '-c', `config_file=${conf}`, '-C', setting];
    const [file, args] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', postgres, ...argv]] : [postgres, argv];
    try {
      const { stdout } = await run(file, args, { cwd: '/' });
      return { code: 0, out: stdout.trim() };
    } catch (error) {
      const e = error as { code: number; stderr: string };
      return { code: e.code, out: e.stderr };
    }
  }
  const committed = readFileSync(join(DEPLOY, 'postgresql/postgresql.conf'), 'utf8');

  it('every setting is one PostgreSQL 15 knows, with a value it accepts (an unknown one is refused)', async () => {
    expect(await loaded(committed, 'max_connections')).toEqual({ code: 0, out: '100' });
    expect(await loaded(committed, 'shared_buffers')).toEqual({ code: 0, out: '262144' }); // 2GB in 8kB pages
    expect(await loaded(committed, 'password_encryption')).toEqual({ code: 0, out: 'scram-sha-256' });
    const unknown = await loaded(`${committed}\nshared_bufers = 1GB\n`, 'max_connections');
    expect(unknown.code).not.toBe(0);
    expect(unknown.out).toContain('unrecognized configuration parameter "shared_bufers"');
  });

  it('says why for every setting: each one follows a comment', () => {
    const lines = committed.split('\n');
    lines.forEach((line, i) => {
      if (!/^[a-z_.]+\s*=/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && /^[a-z_.]+\s*=/.test(lines[j]!)) j--;
      expect(lines[j], `${line} has no comment above it`).toMatch(/^# \S/);
    });
    // PgBouncer's ceiling towards PostgreSQL stays under max_connections, with room for migrate and backups.
    const bouncer = Number(/^max_db_connections = (\d+)/m.exec(readFileSync(join(DEPLOY, 'pgbouncer/pgbouncer.ini'), 'utf8'))![1]);
    const max = Number(/^max_connections = (\d+)/m.exec(committed)![1]);
    expect(bouncer + Number(/^reserve_pool_size = (\d+)/m.exec(readFileSync(join(DEPLOY, 'pgbouncer/pgbouncer.ini'), 'utf8'))![1])).toBeLessThan(max - 10);
  });
});
