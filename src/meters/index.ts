// Meter links (DOMAIN.md rules 4 and 5): what other features may use.
export { LINK_COLUMNS, type MeterLinkRecord, type MeterLinkRow, type Queryable, linkRecord, linkView, mayRead, readableLink } from './meter-access.js';
export { MeterKindMismatchError, MeterLinkNotFoundError } from './meter-link-errors.js';
export { queueSicRegistration } from './sic-registrations.js';
export { endUserLinks } from './own-links.js';
export { MeterLinkService } from './meter-links.js';
export { createMeterLinkService } from './meters-factory.js';
