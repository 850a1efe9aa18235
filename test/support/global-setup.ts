// Vitest global setup: loads the services' settings and makes sure the migrated template database is current.
// Settings reach the tests through vitest's provide/inject (key `services`, read with servicesEnv() from
// test/support/services.ts); process.env is left alone. Sources: .services/env written by ops/services.sh, overridden
// by TEST_* variables already set. Without TEST_DATABASE_URL no template is built.
// Several vitest runs may share one services instance (engineers in one checkout), so: setups take turns on an
// advisory lock; the template is rebuilt only when the migration files changed (fingerprint kept as the database's
// comment) and swapped in by rename; test databases are named t_<pid of their run>_… and only those of runs that
// are gone are dropped as leftovers.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { MIGRATIONS_DIR, migrate } from '../../src/adapters/postgres/migrate.js';
import { TEMPLATE_DATABASE, loadServicesSettings } from './services-env.js';

const ENV_FILE = fileURLToPath(new URL('../../.services/env', import.meta.url));
// Any constant shared by all runs; distinct from node-pg-migrate's own lock id.
const SETUP_LOCK_ID = 731_020_001;

export default async function setup(project: TestProject): Promise<void> {
  const settings = loadServicesSettings(ENV_FILE);
  project.provide('services', settings);
  project.provide('servicesRunPid', process.pid);
  const adminUrl = settings?.TEST_DATABASE_URL;
  if (!adminUrl) return;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK_ID]);
    await dropDatabasesOfGoneRuns(admin);
    const fingerprint = migrationsFingerprint();
    const current = await admin.query<{ comment: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
      [TEMPLATE_DATABASE],
    );
    if (current.rows[0]?.comment !== fingerprint) await rebuildTemplate(admin, adminUrl, fingerprint);
  } finally {
    await admin.end();
  }
}

async function rebuildTemplate(admin: pg.Client, adminUrl: string, fingerprint: string): Promise<void> {
  const building = `t_${process.pid}_template`;
  await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${building}`);
  await migrate({ databaseUrl: databaseUrl(adminUrl, building) });
  await admin.query(`COMMENT ON DATABASE ${building} IS '${fingerprint}'`);
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
  await admin.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE_DATABASE}`);
}

async function dropDatabasesOfGoneRuns(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^t_[0-9]+_'");
  for (const { datname } of rows) {
    const pid = Number(/^t_(\d+)_/.exec(datname)?.[1]);
    if (!isAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Hash of the migration files' names and contents: a changed or added migration means a new template. */
function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql')).sort()) {
    hash.update(name).update('\0').update(readFileSync(join(MIGRATIONS_DIR, name))).update('\0');
  }
  return hash.digest('hex');
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
