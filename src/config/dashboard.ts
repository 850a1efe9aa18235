// The dashboard's cache: its counts are kept this long, per agency and for all (0 turns the cache off).
import { z } from 'zod';
import { int } from './env-fields.js';

export const dashboardEnv = z.object({
  DASHBOARD_CACHE_MS: int(30_000, 0, 600_000),
});

export interface DashboardConfig {
  readonly cacheMs: number;
}

export function dashboardConfig(e: z.infer<typeof dashboardEnv>): DashboardConfig {
  return { cacheMs: e.DASHBOARD_CACHE_MS };
}
