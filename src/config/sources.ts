// The utility's SQL Server sources, configured by name: SQL_SOURCES lists them, SQL_<NAME>_URL and _CA_FILE place each one.
import { existsSync } from 'node:fs';

/**
 * `mssql`: the real database (production). `twin`: no URL, so the queries' PostgreSQL twins run on the product's own
 * database (development, tests, the demo; refused in production).
 */
export type SourceConfig =
  | { readonly name: string; readonly mode: 'twin' }
  | {
      readonly name: string;
      readonly mode: 'mssql';
      readonly server: string;
      readonly port: number;
      readonly database: string;
      readonly user: string;
      readonly password: string;
      /** PEM file of the utility's CA, trusted explicitly (undefined: Node's roots; verification is never off). */
      readonly caFile: string | undefined;
    };

export interface SourcesConfig {
  readonly sources: readonly SourceConfig[];
  /** tedious's connect timeout, also the pool's create timeout. @defaultValue 5_000 */
  readonly connectTimeoutMs: number;
  /** Our client-side deadline on every query (tedious's requestTimeout only covers the first reply packet). @defaultValue 10_000 */
  readonly queryTimeoutMs: number;
  readonly poolMax: number;
  /** Consecutive failures that open a source's circuit. @defaultValue 3 */
  readonly failureThreshold: number;
  /** How often the sic-registrar looks for due rows of sic_registrations (a kick after a link wakes it sooner). @defaultValue 5_000 */
  readonly sicRegistrationPollMs: number;
}

export const DEFAULT_SOURCES = 'sic,histh2mc,bi_ods';

/**
 * How long one ask of a source actor may take with SQL_QUERY_TIMEOUT_MS = `queryTimeoutMs`: a deadlock victim is run
 * once more with a fresh query deadline (the source actor's rule), so two deadlines, and a margin that lets the
 * source's own SOURCE_TIMEOUT reach the asker before the ask gives up. Readers, the SIC registrar and the routes that
 * wait on them all derive from this.
 */
export function sourceAskDeadlineMs(queryTimeoutMs: number): number {
  return 2 * queryTimeoutMs + 1_000;
}
const NAME = /^[a-z][a-z0-9_]{0,30}$/;

const envKey = (name: string, suffix: string) => `SQL_${name.toUpperCase()}_${suffix}`;

function wholeNumber(raw: NodeJS.ProcessEnv, key: string, dflt: number, min: number, max: number, problems: string[]): number {
  const text = (raw[key] ?? '').trim();
  if (text === '') return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${key}: must be a whole number from ${min} to ${max}`);
    return dflt;
  }
  return n;
}

function oneSource(raw: NodeJS.ProcessEnv, name: string, problems: string[]): SourceConfig {
  const urlKey = envKey(name, 'URL');
  const caKey = envKey(name, 'CA_FILE');
  const text = (raw[urlKey] ?? '').trim();
  if (text === '') {
    // The worker runs no source (tree: sources beside the services, on the API roles).
    if (raw.APP_ENV === 'production' && raw.ROLE !== 'worker') problems.push(`${urlKey}: required in production (the PostgreSQL twin of ${name} is for development, tests and the demo)`);
    return { name, mode: 'twin' };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${urlKey}: must be a URL like mssql://user:password@host:1433/DATABASE`);
    return { name, mode: 'twin' };
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (url.protocol !== 'mssql:' || !url.hostname || !url.username || database === '') {
    problems.push(`${urlKey}: must be a URL like mssql://user:password@host:1433/DATABASE (scheme, host, user and database required)`);
  }
  const caFile = (raw[caKey] ?? '').trim() || undefined;
  if (caFile !== undefined && !existsSync(caFile)) problems.push(`${caKey}: no such file: ${caFile}`);
  return {
    name,
    mode: 'mssql',
    server: url.hostname,
    port: url.port === '' ? 1433 : Number(url.port),
    database,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    caFile,
  };
}

/** Reads the sources from the raw environment (their variables are named after them); problems are returned, not thrown. */
export function sourcesFromEnv(raw: NodeJS.ProcessEnv): { value: SourcesConfig; problems: string[] } {
  const problems: string[] = [];
  const listed = (raw.SQL_SOURCES ?? DEFAULT_SOURCES).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const names = [...new Set(listed)];
  for (const n of names) if (!NAME.test(n)) problems.push(`SQL_SOURCES: "${n}" is not a source name (a-z, 0-9 and _, starting with a letter)`);
  const sources = names.filter((n) => NAME.test(n)).map((n) => oneSource(raw, n, problems));
  const value: SourcesConfig = {
    sources,
    connectTimeoutMs: wholeNumber(raw, 'SQL_CONNECT_TIMEOUT_MS', 5_000, 100, 60_000, problems),
    queryTimeoutMs: wholeNumber(raw, 'SQL_QUERY_TIMEOUT_MS', 10_000, 100, 120_000, problems),
    poolMax: wholeNumber(raw, 'SQL_POOL_MAX', 10, 1, 100, problems),
    failureThreshold: wholeNumber(raw, 'SQL_FAILURE_THRESHOLD', 3, 1, 100, problems),
    sicRegistrationPollMs: wholeNumber(raw, 'SIC_REGISTRATION_POLL_MS', 5_000, 100, 3_600_000, problems),
  };
  return { value, problems };
}
