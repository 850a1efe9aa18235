// Meter links (DOMAIN.md rules 4 and 5): what other features may use.
export { LINK_COLUMNS, type MeterLinkRecord, type MeterLinkRow, type Queryable, linkRecord, linkView, mayRead, readableLink } from './meter-access.js';
export { MeterKindMismatchError, MeterLinkNotFoundError } from './meter-link-errors.js';
export { queueSicRegistration } from './sic-registrations.js';
export { createMeterReads } from './meter-data-factory.js';
export { MeterReads, type MeterReadsDeps } from './meter-reads.js';
export { SOURCE_NOT_RUNNING_RETRY_AFTER_MS } from './source-outage.js';
