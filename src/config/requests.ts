// Customer requests with attachments (issue 12): the attachment's size limit, its download links and the janitor.
import { z } from 'zod';
import { MULTIPART_FIELDS_ALLOWANCE_BYTES } from '../contracts/requests-messages.js';
import { int } from './env-fields.js';

/** The slowest client an upload is waited for: 32 KiB/s, a weak mobile link. */
export const UPLOAD_MIN_BYTES_PER_S = 32 * 1024;

/**
 * The deadline of POST /v1/requests: the default plus the time the slowest client takes to send the declared body
 * (Content-Length), capped at the largest body taken; without a Content-Length (chunked), the largest body.
 */
export function uploadDeadlineMs(declaredBytes: number | undefined, maxBodyBytes: number, defaultDeadlineMs: number): number {
  const bytes = Math.min(declaredBytes ?? maxBodyBytes, maxBodyBytes);
  return defaultDeadlineMs + Math.ceil((bytes / UPLOAD_MIN_BYTES_PER_S) * 1_000);
}

/** The longest any upload may last: the largest body (the attachment and its fields) at the slowest client. */
export function largestUploadDeadlineMs(attachmentMaxBytes: number, defaultDeadlineMs: number): number {
  return uploadDeadlineMs(undefined, attachmentMaxBytes + MULTIPART_FIELDS_ALLOWANCE_BYTES, defaultDeadlineMs);
}

/** What the sweep age must exceed the longest upload by: the filing's own transaction after the last byte. */
export const UPLOAD_SWEEP_MARGIN_MS = 60_000;

/**
 * An upload row younger than the longest upload may be a live upload: sweeping it would delete an object its request
 * is about to point to (the filing then refuses it, but the customer's upload is lost). Tests that need a sweep
 * sooner ask the janitor for one with an age (its `sweep` message) instead of lowering this rule.
 */
export function requestsProblems(e: { REQUEST_ATTACHMENT_MAX_BYTES: number; REQUEST_UPLOAD_SWEEP_AGE_MS: number; QUERY_DEADLINE_MS: number }): string[] {
  const least = largestUploadDeadlineMs(e.REQUEST_ATTACHMENT_MAX_BYTES, e.QUERY_DEADLINE_MS) + UPLOAD_SWEEP_MARGIN_MS;
  if (e.REQUEST_UPLOAD_SWEEP_AGE_MS > least) return [];
  return [
    `REQUEST_UPLOAD_SWEEP_AGE_MS: must be above ${least} ms (the longest upload, REQUEST_ATTACHMENT_MAX_BYTES at ${UPLOAD_MIN_BYTES_PER_S} bytes/s plus QUERY_DEADLINE_MS, and a ${UPLOAD_SWEEP_MARGIN_MS} ms margin), or the janitor may delete a live upload's object`,
  ];
}

export const requestsEnv = z.object({
  /** The largest attachment, in bytes (10 MB). */
  REQUEST_ATTACHMENT_MAX_BYTES: int(10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  /** How long a presigned download URL stays valid, in seconds. */
  REQUEST_ATTACHMENT_URL_TTL_S: int(300, 1, 3_600),
  /** An upload row older than this is an orphan (its request was never written): the janitor deletes its object. */
  REQUEST_UPLOAD_SWEEP_AGE_MS: int(3_600_000, 1_000),
  /** An upload that sends no byte for this long is abandoned (408), its storage upload aborted. */
  REQUEST_UPLOAD_IDLE_TIMEOUT_MS: int(30_000, 100),
  /** How long an anonymised request's attachment is kept after its author's account was deleted. */
  REQUEST_ATTACHMENT_RETENTION_MS: int(30 * 86_400_000, 0),
  /** Time between the janitor's passes. */
  REQUEST_JANITOR_INTERVAL_MS: int(60_000, 100),
});

export interface RequestsConfig {
  readonly attachmentMaxBytes: number;
  readonly attachmentUrlTtlS: number;
  readonly uploadSweepAgeMs: number;
  readonly uploadIdleTimeoutMs: number;
  readonly attachmentRetentionMs: number;
  readonly janitorIntervalMs: number;
}

export function requestsConfig(e: z.infer<typeof requestsEnv>): RequestsConfig {
  return {
    attachmentMaxBytes: e.REQUEST_ATTACHMENT_MAX_BYTES,
    attachmentUrlTtlS: e.REQUEST_ATTACHMENT_URL_TTL_S,
    uploadSweepAgeMs: e.REQUEST_UPLOAD_SWEEP_AGE_MS,
    uploadIdleTimeoutMs: e.REQUEST_UPLOAD_IDLE_TIMEOUT_MS,
    attachmentRetentionMs: e.REQUEST_ATTACHMENT_RETENTION_MS,
    janitorIntervalMs: e.REQUEST_JANITOR_INTERVAL_MS,
  };
}
