// Builds the dashboard service from the actors it asks (postgres, cache), the clock and its cache setting.
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { DashboardConfig } from '../config/dashboard.js';
import { resources } from '../resources.js';
import { DashboardService } from './dashboard-service.js';

export function createDashboardService(asker: Asker, clock: Clock, config: DashboardConfig): DashboardService {
  return new DashboardService({ res: resources(asker), clock, cacheMs: config.cacheMs });
}
