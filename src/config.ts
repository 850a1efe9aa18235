// Typed configuration, read once at start from the environment (and an optional .env file).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_SESSION_POLICY, type SessionPolicy } from './domain/session-policy.js';
import { PRIORITY_QUEUES, type PriorityQueue } from './domain/priority.js';
import { AppError } from './errors/app-error.js';
import { accountsConfig, accountsEnv, type AccountsConfig } from './config/accounts.js';
import { brokerConfig, brokerEnv, brokerProblems, type BrokerConfig } from './config/broker.js';
import { cacheConfig, cacheEnv, type CacheConfig } from './config/cache.js';
import { dashboardConfig, dashboardEnv, type DashboardConfig } from './config/dashboard.js';
import { dispatchEnv, dispatchProblems, dispatchTuning, type DispatchTuning } from './config/dispatch.js';
import { fcmConfig, fcmEnv, fcmProblems, type FcmConfig } from './config/fcm.js';
import { httpConfig, httpEnv, httpProblems, type HttpConfig } from './config/http.js';
import { instanceEnv, instanceProblems, roleFromArgv, type Role } from './config/instance.js';
import { ldapConfig, ldapEnv, ldapProblems, ldapRisks, type LdapConfig } from './config/ldap.js';
import { objectsConfig, objectsEnv, objectsProblems, type ObjectsConfig } from './config/objects.js';
import { postgresConfig, postgresEnv, type PostgresConfig } from './config/postgres.js';
import { productionProblems } from './config/production.js';
import { sandboxAllowed } from './config/sandbox.js';
import { smsConfig, smsEnv, smsRisks, type SmsConfig } from './config/sms.js';
import { sourcesFromEnv, type SourcesConfig } from './config/sources.js';
import { requestsConfig, requestsEnv, requestsProblems, type RequestsConfig } from './config/requests.js';
import { jwtConfig, publicKeysProblems, signingKeyProblems, tokensEnv, type JwtConfig } from './config/tokens.js';

export { ROLES, roleFromArgv, type Role } from './config/instance.js';
export { sandboxAllowed, unavailableParts } from './config/sandbox.js';
export { redactUrl } from './config/redact-url.js';

// One schema over every area's variables: zod then reports all type errors of a start together.
const envSchema = z.object({
  ...instanceEnv.shape,
  ...httpEnv.shape,
  ...postgresEnv.shape,
  ...cacheEnv.shape,
  ...tokensEnv.shape,
  ...brokerEnv.shape,
  ...fcmEnv.shape,
  ...dispatchEnv.shape,
  ...smsEnv.shape,
  ...ldapEnv.shape,
  ...accountsEnv.shape,
  ...objectsEnv.shape,
  ...dashboardEnv.shape,
  ...requestsEnv.shape,
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  readonly env: Env['APP_ENV'];
  /**
   * Whether the sandboxes may stand in for what is not configured (the directory with the demo agents, SMS and FCM
   * that only record): only in the demo (embedded database, not production) and with APP_ENV=test set explicitly.
   * Anywhere else — a staging server on a real database, a production host whose APP_ENV was forgotten — a part
   * that is not configured is unavailable, never a sandbox.
   */
  readonly sandbox: boolean;
  readonly role: Role;
  readonly nodeId: string;
  /** The node registry: heartbeat interval, and how long one keeps the node alive for the others. */
  readonly registry: { readonly heartbeatMs: number; readonly staleAfterMs: number };
  /** The control plane: snapshot interval of this node's tree, and how long a command waits for its node's answer. */
  readonly control: { readonly snapshotMs: number; readonly commandTimeoutMs: number };
  readonly http: HttpConfig;
  /** Customer requests: attachment limit, download links, the janitor (src/config/requests.ts). */
  readonly requests: RequestsConfig;
  readonly log: { level: Env['LOG_LEVEL'] };
  /** `embedded` when no DATABASE_URL is set: PGlite served over the PostgreSQL protocol. */
  readonly postgres: PostgresConfig;
  readonly cache: CacheConfig;
  /** JWKS JSON with the verification keys, or undefined: then a development key is generated at start. */
  readonly jwt: JwtConfig;
  /** Secret for HMACs of refresh tokens and one-time codes; generated per process in development. */
  readonly authSecret: string | undefined;
  /** RabbitMQ, or the in-process broker (demo only) when no AMQP_URL is set. */
  readonly broker: BrokerConfig;
  readonly sms: SmsConfig;
  /** The agents' directory, or undefined when none is configured (agent login then answers 503). */
  readonly ldap: LdapConfig | undefined;
  /** Customer sign-in hardening: the PIN lockout's failure window, the SMS budgets of one-time codes and their alarm. */
  readonly accounts: AccountsConfig;
  /** The utility's SQL Server databases by name (SQL_SOURCES): each the real database, or its PostgreSQL twin. */
  readonly sources: SourcesConfig;
  /** Object storage for attachments: an S3 endpoint, or s3rver in process (embedded, no S3_ENDPOINT). */
  readonly objects: ObjectsConfig;
  /** Risks an operator accepted with an explicit override, one line each: logged as warnings at every start. */
  readonly risks: readonly string[];
  /** Session lifetimes and the directory re-check of agents' sessions. */
  readonly sessions: SessionPolicy;
  /** The worker's dispatch: consumers, push scheduler and FCM pool. */
  readonly dispatch: DispatchConfig;
  /** GET /v1/dashboard: how long its counts are cached. */
  readonly dashboard: DashboardConfig;
  readonly queryDeadlineMs: number;
  readonly shutdownTimeoutMs: number;
}

export interface DispatchConfig extends DispatchTuning {
  readonly prefetch: Readonly<Record<PriorityQueue, number>>;
  readonly fcm: FcmConfig;
}

/** Small on purpose: priority holds only with bounded prefetch (FACTS.md). */
export const DEFAULT_PREFETCH: Readonly<Record<PriorityQueue, number>> = { urgent: 8, high_priority: 8, normal: 4, low_priority: 2 };

/** Parses CONSUMER_PREFETCH; problems are returned, not thrown. */
export function parsePrefetch(raw: string | undefined): { value: Record<PriorityQueue, number>; problems: string[] } {
  const value = { ...DEFAULT_PREFETCH };
  const problems: string[] = [];
  if (raw === undefined || raw.trim() === '') return { value, problems };
  for (const part of raw.split(',')) {
    const [name, n] = part.split('=').map((s) => s.trim());
    if (!(PRIORITY_QUEUES as readonly string[]).includes(name ?? '')) {
      problems.push(`CONSUMER_PREFETCH: unknown queue "${name ?? ''}" (expected ${PRIORITY_QUEUES.join(', ')})`);
      continue;
    }
    const count = Number(n);
    if (!Number.isInteger(count) || count < 1 || count > 1_000) problems.push(`CONSUMER_PREFETCH: ${name} must be a whole number from 1 to 1000`);
    else value[name as PriorityQueue] = count;
  }
  return { value, problems };
}

/** The environment does not make a valid configuration; `problems` has one line per problem. */
export class ConfigError extends AppError {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
  }
}

/** Rules across variables, checked on the raw values so they are reported together with the type errors. */
function crossProblems(raw: NodeJS.ProcessEnv, sources: { problems: readonly string[] }): string[] {
  return [
    ...productionProblems(raw),
    ...httpProblems(raw),
    ...brokerProblems(raw),
    ...fcmProblems(raw),
    ...instanceProblems(raw),
    ...dispatchProblems(raw),
    ...parsePrefetch(raw.CONSUMER_PREFETCH).problems,
    ...signingKeyProblems(raw),
    ...ldapProblems(raw),
    ...publicKeysProblems(raw),
    ...sources.problems,
    ...objectsProblems(raw),
  ];
}

/** Loads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const raw = { ...source };
  const flagRole = roleFromArgv(argv);
  if (flagRole !== undefined) raw.ROLE = flagRole;
  const parsed = envSchema.safeParse(raw);
  // Read once: each source's URL and CA file are checked here, and the same reading becomes the config.
  const sources = sourcesFromEnv(raw);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`)),
    ...crossProblems(raw, sources),
    ...(parsed.success ? requestsProblems(parsed.data) : []),
  ];
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;

  const sandbox = sandboxAllowed(e.APP_ENV, e.DATABASE_URL !== undefined);
  return {
    env: e.APP_ENV,
    sandbox,
    role: e.ROLE,
    nodeId: e.NODE_ID,
    registry: { heartbeatMs: e.NODE_HEARTBEAT_MS, staleAfterMs: e.NODE_STALE_AFTER_MS },
    control: { snapshotMs: e.CONTROL_SNAPSHOT_MS, commandTimeoutMs: e.CONTROL_COMMAND_TIMEOUT_MS },
    http: httpConfig(e),
    requests: requestsConfig(e),
    log: { level: e.LOG_LEVEL },
    postgres: postgresConfig(e),
    cache: cacheConfig(e),
    jwt: jwtConfig(e),
    authSecret: e.AUTH_SECRET,
    broker: brokerConfig(e),
    sms: smsConfig(e, sandbox),
    ldap: ldapConfig(e),
    dispatch: { prefetch: parsePrefetch(e.CONSUMER_PREFETCH).value, fcm: fcmConfig(e, sandbox), ...dispatchTuning(e) },
    sessions: {
      ...DEFAULT_SESSION_POLICY,
      accessTtlMs: e.ACCESS_TOKEN_TTL_MS,
      customerMaxMs: e.CUSTOMER_SESSION_MAX_MS,
      agentMaxMs: e.AGENT_SESSION_MAX_MS,
      directoryRecheckMs: e.DIRECTORY_RECHECK_MS,
      directoryGraceMs: e.DIRECTORY_GRACE_MS,
      agentMaxActiveSessions: e.AGENT_MAX_SESSIONS,
    },
    accounts: accountsConfig(e),
    dashboard: dashboardConfig(e),
    sources: sources.value,
    objects: objectsConfig(e),
    queryDeadlineMs: e.QUERY_DEADLINE_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    risks: [...ldapRisks(e), ...smsRisks(e)],
  };
}
