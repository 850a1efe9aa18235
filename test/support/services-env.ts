// The settings ops/services.sh writes to .services/env, as the tests receive them through vitest's provide/inject.
import { existsSync, readFileSync } from 'node:fs';

/** Keys every integration test may rely on once `ops/services.sh start` has run. */
export const REQUIRED_KEYS = [
  'TEST_DATABASE_URL',
  'TEST_PG_BIN_DIR',
  'TEST_REDIS_URL',
  'TEST_REDIS_SERVER_BIN',
  'TEST_AMQP_URL',
  'TEST_RABBITMQ_NODE',
  'TEST_S3_ENDPOINT',
  'TEST_S3_ACCESS_KEY',
  'TEST_S3_SECRET_KEY',
  'TEST_S3_BUCKET',
  'TEST_LDAP_URL',
  'TEST_LDAP_BASE_DN',
  'TEST_LDAP_BIND_DN',
  'TEST_LDAP_BIND_PASSWORD',
  'TEST_LDAP_AGENT_UID',
  'TEST_LDAP_AGENT_PASSWORD',
  'TEST_LDAP_AGENT_AGENCY',
] as const;

/** Extras the script also writes; absent when the services come from elsewhere. */
export const OPTIONAL_KEYS = [
  'TEST_SERVICES_DIR',
  'TEST_LDAP_ADMIN_DN',
  'TEST_LDAP_ADMIN_PASSWORD',
  'TEST_PGBOUNCER_BIN',
  'TEST_LDAPS_URL',
  'TEST_LDAP_CA_FILE',
  'TEST_RABBITMQ_MANAGEMENT_URL',
] as const;

export type ServicesEnv = { readonly [K in (typeof REQUIRED_KEYS)[number]]: string } & {
  readonly [K in (typeof OPTIONAL_KEYS)[number]]?: string;
};

/** Name of the database global-setup migrates and every test database is cloned from. */
export const TEMPLATE_DATABASE = 'samaconso_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Raw TEST_* settings, or null when the services were not started. */
    services: Record<string, string> | null;
    /** Pid of the vitest process that ran the global setup: test database names carry it (t_<pid>_…). */
    servicesRunPid: number;
  }
}

/** Parses KEY=VALUE lines (comments, blank lines and surrounding quotes tolerated). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const value = line.slice(eq + 1).trim();
    out[line.slice(0, eq).trim()] = value.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/** .services/env when present, overridden by TEST_* variables already in the environment (CI with its own services). */
export function loadServicesSettings(envFile: string): Record<string, string> | null {
  const settings = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8')) : {};
  for (const key of [...REQUIRED_KEYS, ...OPTIONAL_KEYS]) {
    const value = process.env[key];
    if (value) settings[key] = value;
  }
  return Object.keys(settings).length > 0 ? settings : null;
}

/** Checks that every required key is present; the error names the missing ones and how to fix it. */
export function toServicesEnv(settings: Record<string, string> | null): ServicesEnv {
  const hint = 'run `bash ops/services.sh start` (or `npm test`, which does)';
  if (!settings) throw new Error(`services are not started: ${hint}`);
  const missing = REQUIRED_KEYS.filter((key) => !settings[key]);
  if (missing.length > 0) throw new Error(`services settings lack ${missing.join(', ')}: ${hint}`);
  return settings as unknown as ServicesEnv;
}
