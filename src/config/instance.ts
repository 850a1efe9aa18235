// This process: its environment, role and node id, its heartbeat in the node registry, log level and deadlines.
import { hostname } from 'node:os';
import { z } from 'zod';
import { int } from './env-fields.js';

export const ROLES = ['api', 'worker', 'all'] as const;

/** The longest a control command may wait for its node (CONTROL_COMMAND_TIMEOUT_MS): the routes' deadline is above it. */
export const CONTROL_COMMAND_TIMEOUT_MAX_MS = 120_000;
export type Role = (typeof ROLES)[number];

export const instanceEnv = z.object({
  APP_ENV: z.enum(['development', 'test', 'production']).default('development'),
  ROLE: z.enum(ROLES).default('all'),
  /** A word of the control exchange's routing keys: letters, digits, '.', '_' and '-' only ('*' or '#' would match other nodes). */
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, "letters, digits, '.', '_' and '-' only")
    .default(`${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`),
  /** Time between two heartbeats of this process in the node registry (PostgreSQL). */
  NODE_HEARTBEAT_MS: int(2_000, 100, 60_000),
  /** How long a heartbeat keeps a node alive for the others: past it, its batch claims are taken over. */
  NODE_STALE_AFTER_MS: int(10_000, 300, 600_000),
  /** Time between two snapshots of this process's supervision tree on the control exchange (GET /admin/supervisors). */
  CONTROL_SNAPSHOT_MS: int(2_000, 100, 60_000),
  /** How long a control command (a remote restart …) waits for the addressed node's answer. */
  CONTROL_COMMAND_TIMEOUT_MS: int(5_000, 100, CONTROL_COMMAND_TIMEOUT_MAX_MS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  QUERY_DEADLINE_MS: int(5_000, 10),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
});

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

export function instanceProblems(raw: NodeJS.ProcessEnv): string[] {
  const heartbeatMs = Number(raw.NODE_HEARTBEAT_MS ?? 2_000);
  const staleAfterMs = Number(raw.NODE_STALE_AFTER_MS ?? 10_000);
  if (Number.isInteger(heartbeatMs) && Number.isInteger(staleAfterMs) && staleAfterMs < 2 * heartbeatMs) {
    return ['NODE_STALE_AFTER_MS: must be at least twice NODE_HEARTBEAT_MS (one late heartbeat must not make a live node look gone)'];
  }
  return [];
}
