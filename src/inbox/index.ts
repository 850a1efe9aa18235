// The inbox feature's public module: what other features may use of the inbox.
export { InboxService, linkCountsBy } from './inbox-service.js';
