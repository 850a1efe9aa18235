// The notifications (intake) feature's public module: what other features may use of job intake.
export { loadNotificationTypes } from './notification-types.js';
export { acceptSystemJob, type SystemNotification } from './system-jobs.js';
