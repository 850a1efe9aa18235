// The HTTP listeners (public API and ops), the proxies in front, CORS and the JSON body limit.
import { z } from 'zod';
import { csv, int } from './env-fields.js';

export const httpEnv = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(8000, 0, 65535),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  OPS_PORT: int(9464, 0, 65535),
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
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
    corsOrigins: e.CORS_ORIGINS,
    jsonBodyLimit: e.JSON_BODY_LIMIT,
    adminEventsIntervalMs: e.ADMIN_EVENTS_INTERVAL_MS,
  };
}
