// Customer requests with attachments (issue 12): the attachment's size limit, its download links and the janitor.
import { z } from 'zod';
import { int } from './env-fields.js';

export const requestsEnv = z.object({
  /** The largest attachment, in bytes (10 MB). */
  REQUEST_ATTACHMENT_MAX_BYTES: int(10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  /** How long a presigned download URL stays valid, in seconds. */
  REQUEST_ATTACHMENT_URL_TTL_S: int(300, 1, 3_600),
  /** An upload row older than this is an orphan (its request was never written): the janitor deletes its object. */
  REQUEST_UPLOAD_SWEEP_AGE_MS: int(3_600_000, 1_000),
  /** How long an anonymised request's attachment is kept after its author's account was deleted. */
  REQUEST_ATTACHMENT_RETENTION_MS: int(30 * 86_400_000, 0),
  /** Time between the janitor's passes. */
  REQUEST_JANITOR_INTERVAL_MS: int(60_000, 100),
});

export interface RequestsConfig {
  readonly attachmentMaxBytes: number;
  readonly attachmentUrlTtlS: number;
  readonly uploadSweepAgeMs: number;
  readonly attachmentRetentionMs: number;
  readonly janitorIntervalMs: number;
}

export function requestsConfig(e: z.infer<typeof requestsEnv>): RequestsConfig {
  return {
    attachmentMaxBytes: e.REQUEST_ATTACHMENT_MAX_BYTES,
    attachmentUrlTtlS: e.REQUEST_ATTACHMENT_URL_TTL_S,
    uploadSweepAgeMs: e.REQUEST_UPLOAD_SWEEP_AGE_MS,
    attachmentRetentionMs: e.REQUEST_ATTACHMENT_RETENTION_MS,
    janitorIntervalMs: e.REQUEST_JANITOR_INTERVAL_MS,
  };
}
