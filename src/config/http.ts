// The HTTP listeners (public API, the optional admin one, and ops), the proxies in front, CORS and the JSON body limit.
import { z } from 'zod';
import { csv, int, isSet } from './env-fields.js';

const DEFAULT_PORTS = { PORT: 8000, OPS_PORT: 9464 } as const;

export const httpEnv = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(DEFAULT_PORTS.PORT, 0, 65535),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  OPS_PORT: int(DEFAULT_PORTS.OPS_PORT, 0, 65535),
  /** Set: the on-call page and /admin routes (with the staff sign-in) get a listener of their own, off the public one. */
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ADMIN_PORT: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional()),
  TRUSTED_PROXY_HOPS: int(0, 0, 10),
  CORS_ORIGINS: csv,
  JSON_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 64kb').default('64kb'),
  /** How often GET /admin/events (the on-call dashboard) pushes a snapshot. */
  ADMIN_EVENTS_INTERVAL_MS: int(3_000, 500, 60_000),
});

export interface HttpConfig {
  host: string;
  port: number;
  opsHost: string;
  opsPort: number;
  /** The admin listener (ADMIN_PORT); undefined: the /admin routes are served on the public listener. */
  admin: { host: string; port: number } | undefined;
  trustedProxyHops: number;
  corsOrigins: string[];
  jsonBodyLimit: string;
  adminEventsIntervalMs: number;
}

export function httpConfig(e: z.infer<typeof httpEnv>): HttpConfig {
  return {
    host: e.HOST,
    port: e.PORT,
    opsHost: e.OPS_HOST,
    opsPort: e.OPS_PORT,
    admin: e.ADMIN_PORT === undefined ? undefined : { host: e.ADMIN_HOST, port: e.ADMIN_PORT },
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
    corsOrigins: e.CORS_ORIGINS,
    jsonBodyLimit: e.JSON_BODY_LIMIT,
    adminEventsIntervalMs: e.ADMIN_EVENTS_INTERVAL_MS,
  };
}

/** An admin listener on the port of another listener could never start; said before anything does. 0 = any free port. */
export function httpProblems(raw: NodeJS.ProcessEnv): string[] {
  if (!isSet(raw, 'ADMIN_PORT')) return [];
  const port = (key: string, dflt: number): number | undefined => {
    const v = isSet(raw, key) ? Number(raw[key]) : dflt;
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  const admin = port('ADMIN_PORT', 0);
  if (admin === undefined) return [];
  const clash = (['PORT', 'OPS_PORT'] as const).find((key) => port(key, DEFAULT_PORTS[key]) === admin);
  return clash ? [`ADMIN_PORT: must differ from ${clash} (both ${admin})`] : [];
}
