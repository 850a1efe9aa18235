// PostgreSQL: an external server (DATABASE_URL), or the embedded PGlite of development and the demo.
import { z } from 'zod';
import { bool, int, optionalUrl } from './env-fields.js';
import type { instanceEnv } from './instance.js';

export const postgresEnv = z.object({
  DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
  DATABASE_MIGRATION_URL: optionalUrl(['postgres', 'postgresql']),
  PG_POOL_MAX: int(10, 1, 500),
  PG_QUERY_TIMEOUT_MS: int(10_000, 100),
  PG_ACQUIRE_TIMEOUT_MS: int(5_000, 50),
  MIGRATE_ON_START: bool(true).optional(),
  EMBEDDED_DATA_DIR: z.string().default('.data/pglite'),
});

export type PostgresConfig =
  | { mode: 'external'; url: string; migrationUrl: string; poolMax: number; queryTimeoutMs: number; acquireTimeoutMs: number; migrateOnStart: boolean }
  | { mode: 'embedded'; dataDir: string; poolMax: number; queryTimeoutMs: number; acquireTimeoutMs: number; migrateOnStart: true };

export function postgresConfig(e: z.infer<typeof postgresEnv> & Pick<z.infer<typeof instanceEnv>, 'APP_ENV'>): PostgresConfig {
  const queryTimeoutMs = e.PG_QUERY_TIMEOUT_MS;
  const acquireTimeoutMs = e.PG_ACQUIRE_TIMEOUT_MS;
  return e.DATABASE_URL
    ? {
        mode: 'external',
        url: e.DATABASE_URL,
        migrationUrl: e.DATABASE_MIGRATION_URL ?? e.DATABASE_URL,
        poolMax: e.PG_POOL_MAX,
        queryTimeoutMs,
        acquireTimeoutMs,
        // Production migrates as its own step on a direct connection (PgBouncer breaks session locks).
        migrateOnStart: e.MIGRATE_ON_START ?? e.APP_ENV !== 'production',
      }
    : // One connection: pglite-socket 0.2 interleaves the extended-protocol messages of concurrent
      // connections on PGlite's single session ("portal does not exist", even wrong rows; upstream
      // electric-sql/pglite#1046), which bench/login.ts hit at once with 10.
      { mode: 'embedded', dataDir: e.EMBEDDED_DATA_DIR, poolMax: 1, queryTimeoutMs, acquireTimeoutMs, migrateOnStart: true };
}
