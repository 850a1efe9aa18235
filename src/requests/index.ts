// Customer requests with attachments (issue 12): what other features and the actors use.
export { RequestsService } from './requests-service.js';
export { createRequestsService, requestDeps } from './requests-factory.js';
export { anonymiseUserRequests, sweepAttachments, type JanitorPolicy, type JanitorResult } from './request-janitor.js';
export { ATTACHMENT_TYPES, MeasuredBody, sniffAttachment } from './attachment-stream.js';
export { newObjectKey } from './request-filing.js';
export type { RequestDeps } from './request-deps.js';
