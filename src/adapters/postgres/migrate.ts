// Applies the SQL migrations in src/migrations (dist/src/migrations once built) with node-pg-migrate.
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner, type RunnerOption } from 'node-pg-migrate';

/** What migrate() logs through: a pino logger fits; warn/error are used when present. */
export interface MigrateLog {
  info(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
}

export interface MigrateOptions {
  /** A direct connection (not through PgBouncer): the advisory lock and the single transaction need one session. */
  databaseUrl: string;
  log?: MigrateLog;
}

/** Table where node-pg-migrate records applied migrations. */
export const MIGRATIONS_TABLE = 'pgmigrations';

/** Resolved from this module so the same code finds the files under src/ (tsx) and dist/src/ (built). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

// node-pg-migrate anchors this as ^(...)$: skip dotfiles and anything that is not a .sql file.
const IGNORE_NON_SQL = '\\..*|.*(?<!\\.sql)';

export async function migrate(options: MigrateOptions): Promise<{ applied: string[] }> {
  const { log } = options;
  // Our own client: node-pg-migrate does not await the end of the one it opens, so the connection could
  // outlive migrate() and die later as an unhandled error (e.g. when the database is dropped right after).
  const dbClient = new pg.Client({ connectionString: options.databaseUrl });
  dbClient.on('error', (err) => log?.warn?.({ err }, 'migration connection failed'));
  await dbClient.connect();
  let ran: Awaited<ReturnType<typeof runner>>;
  try {
    ran = await runner({
      dbClient,
      dir: MIGRATIONS_DIR,
      ignorePattern: IGNORE_NON_SQL,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      checkOrder: true,
      singleTransaction: true,
      noLock: false,
      // Several nodes starting together queue on the lock instead of failing.
      advisoryLockMode: 'wait',
      logger: runnerLogger(log),
    });
  } finally {
    await dbClient.end();
  }
  const applied = ran.map((migration) => migration.name);
  log?.info({ applied }, applied.length > 0 ? 'migrations applied' : 'no migrations to apply');
  return { applied };
}

// node-pg-migrate's progress lines duplicate our summary, so only its warnings and errors are passed on.
function runnerLogger(log: MigrateLog | undefined): NonNullable<RunnerOption['logger']> {
  const ignore = (): void => {};
  if (!log) return { info: ignore, warn: ignore, error: ignore };
  return {
    info: ignore,
    warn: (msg: string) => (log.warn ?? log.info).call(log, { component: 'migrate' }, msg),
    error: (msg: string) => (log.error ?? log.info).call(log, { component: 'migrate' }, msg),
  };
}
