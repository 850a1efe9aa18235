// Typed configuration, read once at start from the environment (and an optional .env file).
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_SESSION_POLICY, type SessionPolicy } from './domain/session-policy.js';
import { PRIORITY_QUEUES, type PriorityQueue } from './domain/priority.js';
import { AppError } from './errors/app-error.js';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

const optionalUrl = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(`${p}://`)), {
      message: `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    });

const bool = (dflt: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? dflt : ['true', '1', 'yes'].includes(v)));

const int = (dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(dflt);

const csv = z
  .string()
  .optional()
  .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

const envSchema = z.object({
  APP_ENV: z.enum(['development', 'test', 'production']).default('development'),
  ROLE: z.enum(ROLES).default('all'),
  NODE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Time between two heartbeats of this process in the node registry (PostgreSQL). */
  NODE_HEARTBEAT_MS: int(2_000, 100, 60_000),
  /** How long a heartbeat keeps a node alive for the others: past it, its batch claims are taken over. */
  NODE_STALE_AFTER_MS: int(10_000, 300, 600_000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(8000, 0, 65535),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  OPS_PORT: int(9464, 0, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
  DATABASE_MIGRATION_URL: optionalUrl(['postgres', 'postgresql']),
  PG_POOL_MAX: int(10, 1, 500),
  PG_QUERY_TIMEOUT_MS: int(10_000, 100),
  PG_ACQUIRE_TIMEOUT_MS: int(5_000, 50),
  MIGRATE_ON_START: bool(true).optional(),
  EMBEDDED_DATA_DIR: z.string().default('.data/pglite'),

  REDIS_URL: optionalUrl(['redis', 'rediss']),
  CACHE_MAX_ENTRIES: int(10_000, 10),

  JWT_PUBLIC_KEYS: z.string().optional(),
  JWT_SIGNING_KEY: z.string().optional(),
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('samaconso'),
  JWT_AUDIENCE: z.string().min(1).default('samaconso-app'),

  TRUSTED_PROXY_HOPS: int(0, 0, 10),
  CORS_ORIGINS: csv,
  JSON_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 64kb').default('64kb'),
  AMQP_URL: optionalUrl(['amqp', 'amqps']),
  BROKER_RETRY_TIERS_MS: z
    .string()
    .default('1000,10000,60000')
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .refine((a) => a.length > 0 && a.every((n) => Number.isInteger(n) && n > 0), { message: 'must be a comma list of positive integers (milliseconds)' }),
  BROKER_DELIVERY_LIMIT: int(5, 0, 1_000),
  /** Unacked deliveries a worker holds per queue: `urgent=8,high_priority=8,normal=4,low_priority=2` (any subset). */
  CONSUMER_PREFETCH: z.string().optional(),

  FCM_PROJECT_ID: z.string().trim().optional().transform((v) => (v === '' ? undefined : v)),
  FCM_CREDENTIALS_FILE: z.string().trim().optional().transform((v) => (v === '' ? undefined : v)),
  FCM_TRANSPORT: z.enum(['http2-session', 'http1', 'http2']).default('http2-session'),
  FCM_PROXY_URL: optionalUrl(['http', 'https']),
  FCM_EXTRA_CA_FILE: z.string().trim().optional().transform((v) => (v === '' ? undefined : v)),
  FCM_POOL_THREADS: int(2, 1, 64),
  FCM_URGENT_THREADS: int(1, 0, 16),
  FCM_SESSIONS_PER_THREAD: int(2, 1, 16),
  /** V8 heap limits of each FCM pool thread, MB (0: V8's default, from the machine's memory; less cannot start a thread). */
  FCM_THREAD_MAX_OLD_MB: int(256, 0, 16_384).refine((n) => n === 0 || n >= 64, { message: "must be 0 (V8's default) or at least 64" }),
  FCM_THREAD_MAX_YOUNG_MB: int(16, 0, 1_024).refine((n) => n === 0 || n >= 4, { message: "must be 0 (V8's default) or at least 4" }),
  FCM_BATCHES_IN_FLIGHT: int(4, 2, 256),
  FCM_URGENT_RESERVED: int(1, 1, 255),
  FCM_RATE_PER_MINUTE: int(600_000, 1),
  FCM_WORKER_COUNT: int(1, 1, 1_000),
  FCM_MAX_SEND_ATTEMPTS: int(5, 1, 100),
  /** Sends in flight at once per pool thread (http1: over a keep-alive agent of 64 sockets). */
  FCM_SENDS_PER_THREAD: int(200, 1, 10_000),
  /** How long a batch claim holds before another copy may take the batch over (a worker that died). */
  DISPATCH_CLAIM_LEASE_MS: int(60_000, 100, 3_600_000),
  /**
   * Answers inside a batch recorded per progress step (a takeover sends only the tokens without one; the default is
   * FCM_SENDS_PER_THREAD's, the sender's in-flight window); 0: no
   * progress recorded while a batch is in flight (a takeover sends the whole batch again).
   */
  DISPATCH_PROGRESS_STEP: int(200, 0, 500),
  /** Answers wait at most this long before they are recorded as a step, however few. */
  DISPATCH_PROGRESS_FLUSH_MS: int(200, 10, 60_000),
  /** How long a delivery is held while a dependency is away (or busy) before it goes back to its queue. */
  DISPATCH_OUTAGE_HOLD_MS: int(300_000, 0, 3_600_000),
  /** A job with no progress for this long is resumed or settled by the worker's job reaper. */
  DISPATCH_STALL_MS: int(1_800_000, 1_000, 7 * 24 * 3_600_000),
  /** Time between two passes of the job reaper. */
  DISPATCH_REAPER_INTERVAL_MS: int(60_000, 100, 3_600_000),
  /** sent_batches and batch_claims rows of jobs finished longer ago than this many days are purged. */
  DISPATCH_PURGE_AFTER_DAYS: int(30, 1, 3_650),
  /** Shares of high_priority, normal and low_priority: `6,3,1`. */
  DISPATCH_WEIGHTS: z
    .string()
    .default('6,3,1')
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .refine((a) => a.length === 3 && a.every((n) => Number.isFinite(n) && n > 0), { message: 'must be three positive numbers: high_priority,normal,low_priority' }),
  /** Low-priority batches above this many tokens are split into chunks of this size. */
  DISPATCH_LOW_SPLIT: int(100, 1, 500),

  SMS_GATEWAY_URL: optionalUrl(['http', 'https']),
  SMS_GATEWAY_TIMEOUT_MS: int(5_000, 100, 8_000),
  /** Production only: accept an http:// gateway although it carries one-time codes in clear (logged at start). */
  SMS_GATEWAY_ALLOW_PLAINTEXT: bool(false),

  LDAP_URL: optionalUrl(['ldap', 'ldaps']),
  LDAP_BIND_DN: z.string().optional(),
  LDAP_BIND_PASSWORD: z.string().optional(),
  LDAP_BASE_DN: z.string().optional(),
  LDAP_USER_FILTER: z.string().includes('{login}', { message: 'must contain {login}' }).default('(uid={login})'),
  LDAP_AGENCY_ATTRIBUTE: z.string().min(1).default('departmentNumber'),
  LDAP_CA_FILE: z.string().optional(),
  /** ldap:// upgraded with StartTLS before any bind (verified against LDAP_CA_FILE or the system roots). */
  LDAP_STARTTLS: bool(false),
  /** Production only: accept ldap:// without StartTLS although passwords then cross the network in clear (logged). */
  LDAP_ALLOW_PLAINTEXT: bool(false),
  LDAP_TIMEOUT_MS: int(5_000, 100, 15_000),

  /** Sessions (src/accounts/sessions.ts): absolute lifetimes from the login, and the directory re-check of agents. */
  CUSTOMER_SESSION_MAX_MS: int(DEFAULT_SESSION_POLICY.customerMaxMs, 60_000),
  AGENT_SESSION_MAX_MS: int(DEFAULT_SESSION_POLICY.agentMaxMs, 60_000),
  DIRECTORY_RECHECK_MS: int(DEFAULT_SESSION_POLICY.directoryRecheckMs, 1_000),
  DIRECTORY_GRACE_MS: int(DEFAULT_SESSION_POLICY.directoryGraceMs, 0),
  /** How long a wrong PIN counts towards the lockout (failures older than this stop counting). */
  PIN_FAILURE_WINDOW_MS: int(3_600_000, 60_000, 7 * 86_400_000),
  /** One-time codes sent to one phone in any hour, whoever asks (registration and PIN reset together). */
  SMS_REQUESTS_PER_PHONE_PER_HOUR: int(3, 1, 100),
  SMS_PER_PHONE_PER_DAY: int(5, 1, 1_000),
  SMS_OVERALL_PER_DAY: int(20_000, 1),
  /** Share of SMS_OVERALL_PER_DAY at which the alarm goes (a warning line, and the metric's threshold). */
  SMS_BUDGET_ALARM_RATIO: z.coerce.number().gt(0).max(1).default(0.8),

  QUERY_DEADLINE_MS: int(5_000, 10),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
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
  readonly http: { host: string; port: number; opsHost: string; opsPort: number; trustedProxyHops: number; corsOrigins: string[]; jsonBodyLimit: string };
  readonly log: { level: Env['LOG_LEVEL'] };
  /** `embedded` when no DATABASE_URL is set: PGlite served over the PostgreSQL protocol. */
  readonly postgres:
    | { mode: 'external'; url: string; migrationUrl: string; poolMax: number; queryTimeoutMs: number; acquireTimeoutMs: number; migrateOnStart: boolean }
    | { mode: 'embedded'; dataDir: string; poolMax: number; queryTimeoutMs: number; acquireTimeoutMs: number; migrateOnStart: true };
  readonly cache: { mode: 'redis'; url: string; maxEntries: number } | { mode: 'memory'; maxEntries: number };
  /** JWKS JSON with the verification keys, or undefined: then a development key is generated at start. */
  readonly jwt: {
    publicKeys: string | undefined;
    /** Private JWK (with kid and alg) the API signs access tokens with; a worker needs none. */
    signingKey: string | undefined;
    issuer: string;
    audience: string;
  };
  /** Secret for HMACs of refresh tokens and one-time codes; generated per process in development. */
  readonly authSecret: string | undefined;
  /** RabbitMQ, or the in-process broker (demo only) when no AMQP_URL is set. */
  readonly broker: { url: string | undefined; retryTiersMs: number[]; deliveryLimit: number };
  /**
   * `gateway` calls the utility's SOAP service; without one, `sandbox` records messages (demo and tests only) and
   * `none` answers every send with SMS_UNAVAILABLE.
   */
  readonly sms: { mode: 'sandbox' } | { mode: 'gateway'; url: string; timeoutMs: number } | { mode: 'none' };
  /** The agents' directory, or undefined when none is configured (agent login then answers 503). */
  readonly ldap:
    | {
        url: string;
        bindDn: string;
        bindPassword: string;
        baseDn: string;
        /** Search filter with `{login}` where the escaped login goes. */
        userFilter: string;
        agencyAttribute: string;
        caFile: string | undefined;
        /** ldap:// only: upgrade with StartTLS before any bind. */
        startTls: boolean;
        timeoutMs: number;
      }
    | undefined;
  /** Customer sign-in hardening: the PIN lockout's failure window, the SMS budgets of one-time codes and their alarm. */
  readonly accounts: {
    pinFailureWindowMs: number;
    smsPerPhonePerHour: number;
    smsPerPhonePerDay: number;
    smsOverallPerDay: number;
    smsBudgetAlarmRatio: number;
  };
  /** Risks an operator accepted with an explicit override, one line each: logged as warnings at every start. */
  readonly risks: readonly string[];
  /** Session lifetimes and the directory re-check of agents' sessions. */
  readonly sessions: SessionPolicy;
  /** The worker's dispatch: consumers, push scheduler and FCM pool. */
  readonly dispatch: DispatchConfig;
  readonly queryDeadlineMs: number;
  readonly shutdownTimeoutMs: number;
}

export interface DispatchConfig {
  readonly prefetch: Readonly<Record<PriorityQueue, number>>;
  /**
   * `fcm` sends through firebase-admin in a pool of worker threads; without an FCM project, `sandbox` records sends
   * in memory (demo and tests only) and `none` leaves the queues unconsumed (a worker never drops pushes).
   */
  readonly fcm:
    | { mode: 'sandbox' }
    | { mode: 'none' }
    | {
        mode: 'fcm';
        projectId: string;
        credentialsFile: string;
        transport: 'http2-session' | 'http1' | 'http2';
        proxyUrl: string | undefined;
        extraCaFile: string | undefined;
        threads: number;
        /** Threads only urgent batches use (0: urgent shares the pool's). */
        urgentThreads: number;
        /** http2-session: HTTP/2 sessions each thread keeps open side by side. */
        sessionsPerThread: number;
        sendsPerThread: number;
        /** V8 heap limits of each pool thread, MB (0: V8's default). */
        threadMaxOldMb: number;
        threadMaxYoungMb: number;
      };
  /** Batches sent at once (the scheduler's slots, and the pool's whole queue). */
  readonly batchesInFlight: number;
  /** Slots only urgent may use. */
  readonly urgentReserved: number;
  /** The FCM project's quota shared by all workers, and how many workers share it (the fallback share). */
  readonly ratePerMinute: number;
  readonly workerCount: number;
  readonly maxSendAttempts: number;
  readonly claimLeaseMs: number;
  /** In-batch progress: answers per recorded step, and the longest an answer waits to be recorded. */
  readonly progress: { readonly step: number; readonly flushMs: number };
  /** How long a delivery is held while a dependency is away before it goes back to its queue. */
  readonly outageHoldMs: number;
  /** The job reaper: no progress for stallMs and a job is resumed or settled; a pass every intervalMs; the purge. */
  readonly reaper: { readonly stallMs: number; readonly intervalMs: number; readonly purgeAfterDays: number };
  readonly weights: Readonly<Record<'high_priority' | 'normal' | 'low_priority', number>>;
  readonly lowSplit: number;
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

/** Reads `--role=X` / `--role X` from argv; the flag wins over ROLE. A bare `--role` gives '' (then refused). */
export function roleFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--role=')) return a.slice('--role='.length);
    if (a === '--role') {
      const next = argv[i + 1];
      return next === undefined || next.startsWith('--') ? '' : next;
    }
  }
  return undefined;
}

/** Rules across variables, checked on the raw values so they are reported together with the type errors. */
function crossProblems(raw: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const set = (k: string) => (raw[k] ?? '').trim() !== '';
  if (raw.APP_ENV === 'production') {
    // Each role is asked for what it uses (README, "Production settings by role"): every role for the shared
    // services; the API (api, all) for token keys, the HMAC secret and the SMS gateway; the worker (worker, all)
    // for its FCM project.
    const servesApi = raw.ROLE !== 'worker';
    const sends = raw.ROLE !== 'api';
    if (!set('DATABASE_URL')) problems.push('DATABASE_URL: required in production (the embedded database is for development only)');
    if (!set('REDIS_URL')) problems.push('REDIS_URL: required in production (the in-process cache is for development only)');
    if (!set('AMQP_URL')) problems.push('AMQP_URL: required in production (the in-process broker is for the demo only)');
    if (servesApi) {
      if (!set('JWT_PUBLIC_KEYS')) problems.push('JWT_PUBLIC_KEYS: required in production for the api role (a JWKS with the token verification keys)');
      if (!set('JWT_SIGNING_KEY')) problems.push('JWT_SIGNING_KEY: required in production for the api role (a private JWK with kid and alg)');
      if (!set('AUTH_SECRET')) problems.push('AUTH_SECRET: required in production for the api role (at least 32 random characters)');
      if (!set('SMS_GATEWAY_URL')) problems.push('SMS_GATEWAY_URL: required in production for the api role (the SMS sandbox is for development only)');
    }
    if (sends && !set('FCM_PROJECT_ID')) problems.push('FCM_PROJECT_ID: required in production for the worker role (the FCM sandbox is for development only)');
    // Plain-text credentials: refused unless an explicit override accepts the risk (then logged at every start).
    const yes = (k: string) => ['true', '1', 'yes'].includes((raw[k] ?? '').trim());
    const url = (k: string) => (raw[k] ?? '').trim();
    if (url('LDAP_URL').startsWith('ldap://') && !yes('LDAP_STARTTLS') && !yes('LDAP_ALLOW_PLAINTEXT')) {
      problems.push('LDAP_URL: ldap:// sends passwords in clear; use ldaps://, or set LDAP_STARTTLS=true (or accept the risk with LDAP_ALLOW_PLAINTEXT=true)');
    }
    if (url('SMS_GATEWAY_URL').startsWith('http://') && !yes('SMS_GATEWAY_ALLOW_PLAINTEXT')) {
      problems.push('SMS_GATEWAY_URL: http:// carries one-time codes in clear; use https:// (or accept the risk with SMS_GATEWAY_ALLOW_PLAINTEXT=true)');
    }
  }
  if (set('FCM_PROJECT_ID') && !set('FCM_CREDENTIALS_FILE')) problems.push('FCM_CREDENTIALS_FILE: required when FCM_PROJECT_ID is set (the service-account JSON file)');
  if (set('FCM_CREDENTIALS_FILE') && !existsSync(raw.FCM_CREDENTIALS_FILE!.trim())) problems.push(`FCM_CREDENTIALS_FILE: no file at ${raw.FCM_CREDENTIALS_FILE!.trim()}`);
  if (set('FCM_EXTRA_CA_FILE') && !existsSync(raw.FCM_EXTRA_CA_FILE!.trim())) problems.push(`FCM_EXTRA_CA_FILE: no file at ${raw.FCM_EXTRA_CA_FILE!.trim()}`);
  if (raw.FCM_TRANSPORT === 'http2' && (set('FCM_PROXY_URL') || set('FCM_EXTRA_CA_FILE'))) {
    problems.push('FCM_TRANSPORT: http2 (firebase-admin sendEach) cannot use FCM_PROXY_URL or FCM_EXTRA_CA_FILE; use http2-session or http1');
  }
  const heartbeatMs = Number(raw.NODE_HEARTBEAT_MS ?? 2_000);
  const staleAfterMs = Number(raw.NODE_STALE_AFTER_MS ?? 10_000);
  if (Number.isInteger(heartbeatMs) && Number.isInteger(staleAfterMs) && staleAfterMs < 2 * heartbeatMs) {
    problems.push('NODE_STALE_AFTER_MS: must be at least twice NODE_HEARTBEAT_MS (one late heartbeat must not make a live node look gone)');
  }
  const inFlight = Number(raw.FCM_BATCHES_IN_FLIGHT ?? 4);
  const reserved = Number(raw.FCM_URGENT_RESERVED ?? 1);
  if (Number.isInteger(inFlight) && Number.isInteger(reserved) && reserved >= inFlight) problems.push('FCM_URGENT_RESERVED: must be below FCM_BATCHES_IN_FLIGHT');
  problems.push(...parsePrefetch(raw.CONSUMER_PREFETCH).problems);
  if (set('JWT_SIGNING_KEY')) {
    try {
      const jwk = JSON.parse(raw.JWT_SIGNING_KEY!) as { kid?: unknown; alg?: unknown; d?: unknown };
      if (typeof jwk.kid !== 'string' || !jwk.kid) problems.push('JWT_SIGNING_KEY: the key needs a "kid"');
      if (jwk.alg !== 'ES256' && jwk.alg !== 'EdDSA') problems.push('JWT_SIGNING_KEY: "alg" must be ES256 or EdDSA');
      if (typeof jwk.d !== 'string') problems.push('JWT_SIGNING_KEY: must be a private key (JWK with "d")');
    } catch {
      problems.push('JWT_SIGNING_KEY: is not valid JSON');
    }
  }
  if (set('LDAP_URL')) {
    for (const k of ['LDAP_BIND_DN', 'LDAP_BIND_PASSWORD', 'LDAP_BASE_DN']) if (!set(k)) problems.push(`${k}: required when LDAP_URL is set`);
  }
  if (set('JWT_PUBLIC_KEYS')) {
    try {
      const jwks = JSON.parse(raw.JWT_PUBLIC_KEYS!) as { keys?: Array<{ kid?: unknown }> };
      if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) problems.push('JWT_PUBLIC_KEYS: must be a JWKS object with a non-empty "keys" array');
      else if (jwks.keys.some((k) => typeof k.kid !== 'string' || k.kid === '')) problems.push('JWT_PUBLIC_KEYS: every key needs a "kid"');
    } catch {
      problems.push('JWT_PUBLIC_KEYS: is not valid JSON');
    }
  }
  return problems;
}

/** The demo (embedded database outside production) and an explicit APP_ENV=test: see Config.sandbox. */
export function sandboxAllowed(appEnv: Env['APP_ENV'], externalDatabase: boolean): boolean {
  return appEnv === 'test' || (appEnv !== 'production' && !externalDatabase);
}

/**
 * What this configuration leaves unavailable because no sandbox may stand in for it, one line each, for the start
 * log: an operator who forgot LDAP_URL learns it there rather than from an agent's 503.
 */
export function unavailableParts(config: Config): string[] {
  if (config.sandbox) return [];
  const why = 'the sandbox exists only in the demo (embedded database) and with APP_ENV=test';
  const lines: string[] = [];
  if (config.role !== 'worker' && !config.ldap) lines.push(`no LDAP_URL: agent logins answer 503 DIRECTORY_UNAVAILABLE (${why})`);
  if (config.role !== 'worker' && config.sms.mode === 'none') lines.push(`no SMS_GATEWAY_URL: one-time codes answer 503 SMS_UNAVAILABLE (${why})`);
  if (config.role !== 'api' && config.dispatch.fcm.mode === 'none') lines.push(`no FCM_PROJECT_ID: this worker consumes no queue, notifications wait in RabbitMQ (${why})`);
  return lines;
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
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`)),
    ...crossProblems(raw),
  ];
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;

  const queryTimeoutMs = e.PG_QUERY_TIMEOUT_MS;
  const acquireTimeoutMs = e.PG_ACQUIRE_TIMEOUT_MS;
  const sandbox = sandboxAllowed(e.APP_ENV, e.DATABASE_URL !== undefined);
  return {
    env: e.APP_ENV,
    sandbox,
    role: e.ROLE,
    nodeId: e.NODE_ID,
    registry: { heartbeatMs: e.NODE_HEARTBEAT_MS, staleAfterMs: e.NODE_STALE_AFTER_MS },
    http: {
      host: e.HOST,
      port: e.PORT,
      opsHost: e.OPS_HOST,
      opsPort: e.OPS_PORT,
      trustedProxyHops: e.TRUSTED_PROXY_HOPS,
      corsOrigins: e.CORS_ORIGINS,
      jsonBodyLimit: e.JSON_BODY_LIMIT,
    },
    log: { level: e.LOG_LEVEL },
    postgres: e.DATABASE_URL
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
        { mode: 'embedded', dataDir: e.EMBEDDED_DATA_DIR, poolMax: 1, queryTimeoutMs, acquireTimeoutMs, migrateOnStart: true },
    cache: e.REDIS_URL ? { mode: 'redis', url: e.REDIS_URL, maxEntries: e.CACHE_MAX_ENTRIES } : { mode: 'memory', maxEntries: e.CACHE_MAX_ENTRIES },
    jwt: { publicKeys: e.JWT_PUBLIC_KEYS, signingKey: e.JWT_SIGNING_KEY, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    authSecret: e.AUTH_SECRET,
    broker: { url: e.AMQP_URL, retryTiersMs: e.BROKER_RETRY_TIERS_MS, deliveryLimit: e.BROKER_DELIVERY_LIMIT },
    sms: e.SMS_GATEWAY_URL ? { mode: 'gateway', url: e.SMS_GATEWAY_URL, timeoutMs: e.SMS_GATEWAY_TIMEOUT_MS } : { mode: sandbox ? 'sandbox' : 'none' },
    ldap: e.LDAP_URL
      ? {
          url: e.LDAP_URL,
          bindDn: e.LDAP_BIND_DN!,
          bindPassword: e.LDAP_BIND_PASSWORD!,
          baseDn: e.LDAP_BASE_DN!,
          userFilter: e.LDAP_USER_FILTER,
          agencyAttribute: e.LDAP_AGENCY_ATTRIBUTE,
          caFile: e.LDAP_CA_FILE,
          startTls: e.LDAP_STARTTLS,
          timeoutMs: e.LDAP_TIMEOUT_MS,
        }
      : undefined,
    dispatch: {
      prefetch: parsePrefetch(e.CONSUMER_PREFETCH).value,
      fcm: e.FCM_PROJECT_ID
        ? {
            mode: 'fcm',
            projectId: e.FCM_PROJECT_ID,
            credentialsFile: e.FCM_CREDENTIALS_FILE!,
            transport: e.FCM_TRANSPORT,
            proxyUrl: e.FCM_PROXY_URL,
            extraCaFile: e.FCM_EXTRA_CA_FILE,
            threads: e.FCM_POOL_THREADS,
            urgentThreads: e.FCM_URGENT_THREADS,
            sessionsPerThread: e.FCM_SESSIONS_PER_THREAD,
            sendsPerThread: e.FCM_SENDS_PER_THREAD,
            threadMaxOldMb: e.FCM_THREAD_MAX_OLD_MB,
            threadMaxYoungMb: e.FCM_THREAD_MAX_YOUNG_MB,
          }
        : { mode: sandbox ? 'sandbox' : 'none' },
      batchesInFlight: e.FCM_BATCHES_IN_FLIGHT,
      urgentReserved: e.FCM_URGENT_RESERVED,
      ratePerMinute: e.FCM_RATE_PER_MINUTE,
      workerCount: e.FCM_WORKER_COUNT,
      maxSendAttempts: e.FCM_MAX_SEND_ATTEMPTS,
      claimLeaseMs: e.DISPATCH_CLAIM_LEASE_MS,
      progress: { step: e.DISPATCH_PROGRESS_STEP, flushMs: e.DISPATCH_PROGRESS_FLUSH_MS },
      outageHoldMs: e.DISPATCH_OUTAGE_HOLD_MS,
      reaper: { stallMs: e.DISPATCH_STALL_MS, intervalMs: e.DISPATCH_REAPER_INTERVAL_MS, purgeAfterDays: e.DISPATCH_PURGE_AFTER_DAYS },
      weights: { high_priority: e.DISPATCH_WEIGHTS[0]!, normal: e.DISPATCH_WEIGHTS[1]!, low_priority: e.DISPATCH_WEIGHTS[2]! },
      lowSplit: e.DISPATCH_LOW_SPLIT,
    },
    sessions: {
      ...DEFAULT_SESSION_POLICY,
      customerMaxMs: e.CUSTOMER_SESSION_MAX_MS,
      agentMaxMs: e.AGENT_SESSION_MAX_MS,
      directoryRecheckMs: e.DIRECTORY_RECHECK_MS,
      directoryGraceMs: e.DIRECTORY_GRACE_MS,
    },
    accounts: {
      pinFailureWindowMs: e.PIN_FAILURE_WINDOW_MS,
      smsPerPhonePerHour: e.SMS_REQUESTS_PER_PHONE_PER_HOUR,
      smsPerPhonePerDay: e.SMS_PER_PHONE_PER_DAY,
      smsOverallPerDay: e.SMS_OVERALL_PER_DAY,
      smsBudgetAlarmRatio: e.SMS_BUDGET_ALARM_RATIO,
    },
    queryDeadlineMs: e.QUERY_DEADLINE_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    risks: plaintextRisks(e),
  };
}

const plaintextLdap = (e: Pick<Env, 'LDAP_URL' | 'LDAP_STARTTLS'>): boolean => e.LDAP_URL?.startsWith('ldap://') === true && !e.LDAP_STARTTLS;
const plaintextSms = (e: Pick<Env, 'SMS_GATEWAY_URL'>): boolean => e.SMS_GATEWAY_URL?.startsWith('http://') === true;

/** The plain-text credentials an override let through, as the start log names them. */
function plaintextRisks(e: Env): string[] {
  const risks: string[] = [];
  if (plaintextLdap(e) && e.LDAP_ALLOW_PLAINTEXT) risks.push("LDAP_ALLOW_PLAINTEXT: agents' directory passwords and the service account's cross the network in clear (ldap:// without StartTLS)");
  if (plaintextSms(e) && e.SMS_GATEWAY_ALLOW_PLAINTEXT) risks.push('SMS_GATEWAY_ALLOW_PLAINTEXT: one-time codes cross the network in clear on their way to the SMS gateway (http://)');
  return risks;
}

/** Removes credentials from a URL before it is logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
