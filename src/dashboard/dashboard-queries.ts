// The dashboard's SQL: one text per count and scope (an agency's, or all), each written for the index named beside
// it — test/integration/dashboard-http.test.ts runs EXPLAIN on every one over seeded rows and checks that index.
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { Dashboard } from '../contracts/dashboard-messages.js';
import { REQUEST_STATUSES } from '../contracts/dashboard-messages.js';

/** One count's SQL for an agency ($1 the agency) and for all agencies, with the index each is meant to use. */
export interface ScopedQuery {
  readonly agency: { readonly text: string; readonly index: string };
  readonly all: { readonly text: string; readonly index: string };
  /** The values after the agency (the agency's text takes the agency as $1 and these from $2; all's from $1). */
  readonly values: (at: QueryTimes) => unknown[];
}

export interface QueryTimes {
  readonly now: Date;
  /** Midnight UTC 29 days before today's: the first of the 30 days counted. */
  readonly since: Date;
}


/** Open and in-progress requests of any age; resolved and rejected ones filed in the 30 days before now. */
function requestsText(agency: boolean): string {
  const a = agency ? 'agency_code = $1 AND ' : '';
  const at = agency ? '$2' : '$1';
  return `SELECT status,
      count(*)::int AS total,
      count(*) FILTER (WHERE created_at > ${at}::timestamptz - interval '1 day')::int AS "underOneDay",
      count(*) FILTER (WHERE created_at <= ${at}::timestamptz - interval '1 day' AND created_at > ${at}::timestamptz - interval '7 days')::int AS "oneToSevenDays",
      count(*) FILTER (WHERE created_at <= ${at}::timestamptz - interval '7 days' AND created_at > ${at}::timestamptz - interval '30 days')::int AS "sevenToThirtyDays",
      count(*) FILTER (WHERE created_at <= ${at}::timestamptz - interval '30 days')::int AS "overThirtyDays"
    FROM (
      SELECT status, created_at FROM requests WHERE ${a}status IN ('open', 'in_progress')
      UNION ALL
      SELECT status, created_at FROM requests WHERE ${a}status IN ('resolved', 'rejected') AND created_at > ${at}::timestamptz - interval '30 days'
    ) r GROUP BY status`;
}

function notificationsText(agency: boolean): string {
  const where = agency ? `caller_agency = $1 AND created_at >= $2` : `created_at >= $1`;
  return `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, type,
      count(*)::int AS jobs,
      count(*) FILTER (WHERE state = 'done')::int AS done,
      count(*) FILTER (WHERE state = 'failed')::int AS failed,
      count(*) FILTER (WHERE state NOT IN ('done', 'failed'))::int AS "inFlight",
      coalesce(sum(sent_count), 0)::float8 AS "pushesSent",
      coalesce(sum(failed_count), 0)::float8 AS "pushesFailed",
      coalesce(sum(inbox_count), 0)::float8 AS "inboxEntries"
    FROM notification_jobs WHERE ${where}
    GROUP BY 1, 2 ORDER BY 1, 2`;
}

export const DASHBOARD_QUERIES = {
  pendingLinks: {
    agency: { text: `SELECT count(*)::int AS pending, min(created_at) AS oldest FROM meter_links WHERE agency_code = $1 AND state = 'pending'`, index: 'meter_links_agency_pending' },
    all: { text: `SELECT count(*)::int AS pending, min(created_at) AS oldest FROM meter_links WHERE state = 'pending'`, index: 'meter_links_agency_pending' },
    values: () => [],
  },
  requests: {
    agency: { text: requestsText(true), index: 'requests_agency_status' },
    all: { text: requestsText(false), index: 'requests_status' },
    values: (t) => [t.now],
  },
  notifications: {
    agency: { text: notificationsText(true), index: 'notification_jobs_agency' },
    all: { text: notificationsText(false), index: 'notification_jobs_created' },
    values: (t) => [t.since],
  },
  activeCustomers: {
    agency: { text: `SELECT count(DISTINCT user_id)::int AS active FROM meter_links WHERE agency_code = $1 AND state = 'active'`, index: 'meter_links_agency_active' },
    all: { text: `SELECT count(DISTINCT user_id)::int AS active FROM meter_links WHERE state = 'active'`, index: 'meter_links_agency_active' },
    values: () => [],
  },
} satisfies Record<string, ScopedQuery>;

/** The SQL text and values of one count for the scope. */
export function queryFor(q: ScopedQuery, agency: string | null, times: QueryTimes): { text: string; values: unknown[] } {
  return agency === null ? { text: q.all.text, values: q.values(times) } : { text: q.agency.text, values: [agency, ...q.values(times)] };
}

/** Every count of the scope, read side by side on the handle's pool. */
export async function readDashboard(db: Queryable, agency: string | null, times: QueryTimes): Promise<Omit<Dashboard, 'generatedAt' | 'agency'>> {
  const run = <R extends object>(q: ScopedQuery) => {
    const { text, values } = queryFor(q, agency, times);
    return db.query<R & Record<string, unknown>>(text, values).then((r) => r.rows);
  };
  const [links, requests, notifications, customers] = await Promise.all([
    run<{ pending: number; oldest: Date | null }>(DASHBOARD_QUERIES.pendingLinks),
    run<Dashboard['requests'][number]>(DASHBOARD_QUERIES.requests),
    run<Dashboard['notifications']['days'][number]>(DASHBOARD_QUERIES.notifications),
    run<{ active: number }>(DASHBOARD_QUERIES.activeCustomers),
  ]);
  const oldest = links[0]?.oldest ?? null;
  const zero = { total: 0, underOneDay: 0, oneToSevenDays: 0, sevenToThirtyDays: 0, overThirtyDays: 0 };
  return {
    meterLinks: {
      pending: links[0]?.pending ?? 0,
      oldestPendingAgeSeconds: oldest === null ? null : Math.max(0, Math.floor((times.now.getTime() - oldest.getTime()) / 1000)),
    },
    requests: REQUEST_STATUSES.map((status) => ({ status, ...zero, ...requests.find((r) => r.status === status) })),
    notifications: { since: times.since.toISOString().slice(0, 10), days: notifications.map((d) => ({ ...d })) },
    customers: { active: customers[0]?.active ?? 0 },
  };
}
