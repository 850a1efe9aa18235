// Meter links (DOMAIN.md rules 4 and 5): what other features may use.
export { type MeterLinkRow, type Queryable, readableLink } from './meter-access.js';
export { LinkCache } from './link-cache.js';
export { queueSicRegistration } from './sic-registrations.js';
export { SIC_REGISTRAR, type SicRegistrarMessage, type SicRegistrarStats, kickSicRegistrar } from './sic-registrar-messages.js';
export { SIC_BACKOFF, type SicDrainResult, type SicRegistration, SicRegistrar, registerThroughSic } from './sic-registrar.js';
export { endUserLinks } from './own-links.js';
export { MeterLinkService } from './meter-links.js';
export { createMeterLinkService } from './meters-factory.js';
export { createMeterReads } from './meter-data-factory.js';
export { MeterReads } from './meter-reads.js';
