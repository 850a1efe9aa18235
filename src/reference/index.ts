// Reference data (agencies, tariff thresholds, notification and request types): what other features may use.
export { REFERENCE_CACHE_KEYS, REFERENCE_TTL_MS, ReferenceService } from './reference-service.js';
export { createReferenceService } from './reference-factory.js';
export { AgencyNotFoundError } from './reference-errors.js';
