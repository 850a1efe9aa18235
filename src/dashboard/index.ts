// The back office's dashboard: what other parts may use.
export { DashboardService, queryTimes } from './dashboard-service.js';
export { createDashboardService } from './dashboard-factory.js';
export { DASHBOARD_QUERIES, queryFor, type ScopedQuery } from './dashboard-queries.js';
