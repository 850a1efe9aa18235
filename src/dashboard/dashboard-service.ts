// The back office's dashboard: an agent's agency, or an admin's choice of one or all, counted in PostgreSQL and
// cached briefly per scope (every agent of an agency shares one reading).
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { Caller } from '../contracts/caller.js';
import type { Dashboard } from '../contracts/dashboard-messages.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors/app-error.js';
import { AgencyNotFoundError } from '../reference/index.js';
import type { Resources } from '../resources.js';
import { readDashboard, type QueryTimes } from './dashboard-queries.js';

const DAY_MS = 86_400_000;

/** Customers, an agent asking for another agency, an agent without one: 403. */
export class DashboardForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
}

export interface DashboardDeps {
  readonly res: Pick<Resources, 'db' | 'cached'>;
  readonly clock: Clock;
  /** How long one reading is served (DASHBOARD_CACHE_MS). */
  readonly cacheMs: number;
}

/** The counts' times: now, and midnight UTC (Dakar's) 29 days before today, the first of the 30 days. */
export function queryTimes(nowMs: number): QueryTimes {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return { now: new Date(nowMs), since: new Date(today - 29 * DAY_MS) };
}

export class DashboardService {
  constructor(private readonly deps: DashboardDeps) {}

  async read(caller: Caller, agency: string | undefined): Promise<Dashboard> {
    const scope = scopeOf(caller, agency);
    const load = async (): Promise<Dashboard> => {
      const times = queryTimes(this.deps.clock.now());
      const db = await this.deps.res.db();
      // Checked in the load, so a cached reading costs no query, and an unknown code (which throws) is never cached.
      if (scope !== null && caller.role === 'admin') await mustExist(db, scope);
      const counts = await readDashboard(db, scope, times);
      return { agency: scope, generatedAt: times.now.toISOString(), ...counts };
    };
    if (this.deps.cacheMs === 0) return load();
    // JSON of the agency code: no code can collide with another's key, nor with the key of all agencies.
    return this.deps.res.cached(`dashboard:v1:${scope === null ? '*' : JSON.stringify(scope)}`, this.deps.cacheMs, load);
  }
}

/** A code an admin named must be in the agencies table; withdrawn agencies count (they have history). */
async function mustExist(db: Queryable, agency: string): Promise<void> {
  const { rows } = await db.query(`SELECT 1 FROM agencies WHERE code = $1`, [agency]);
  if (rows.length === 0) throw new AgencyNotFoundError(agency);
}

/** The agency counted (null: all): an agent's own, whatever they ask, refused when they name another. */
function scopeOf(caller: Caller, agency: string | undefined): string | null {
  switch (caller.role) {
    case 'admin':
      return agency ?? null;
    case 'agent':
      if (caller.agency === null) throw new DashboardForbiddenError('An agent without an agency has no dashboard.');
      if (agency !== undefined && agency !== caller.agency) throw new DashboardForbiddenError("Agents see their own agency's dashboard only.");
      return caller.agency;
    case 'customer':
      throw new DashboardForbiddenError('The dashboard is for agents and admins.');
  }
}
