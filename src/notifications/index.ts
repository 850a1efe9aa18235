// The notifications (intake) feature's public module: what other features may use of job intake.
export type { JobMessage } from './notification-jobs.js';
export { loadNotificationTypes } from './notification-types.js';
