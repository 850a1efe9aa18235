// Messages of the objects resource actor: it owns the S3 client and lends an ObjectStore while storage answers.
import type { Readable } from 'node:stream';
import type { Reply } from '../../contracts/reply.js';
import { ServiceUnavailableError } from '../../errors/app-error.js';

/** Object storage (MinIO in production, s3rver in tests and the embedded mode), one bucket. */
export interface ObjectStore {
  /**
   * Streams `body` to `key` in parts of the configured size with a bounded number in flight, so memory grows by the
   * part size, never by the object's size. Rejects with StorageUnavailableError when storage fails (an unfinished
   * multipart upload is aborted), or with the body's own error when the body fails (a limit, a bad type).
   */
  put(key: string, body: Readable, options: { readonly contentType: string; readonly signal?: AbortSignal }): Promise<{ readonly bytes: number }>;
  /** The object's size and type; undefined when there is none. */
  head(key: string): Promise<{ readonly bytes: number; readonly contentType: string | undefined } | undefined>;
  /** The object's bytes as a stream (checks and tests); rejects when there is none. */
  get(key: string): Promise<Readable>;
  /** Deletes it; an object already gone is not an error. */
  delete(key: string): Promise<void>;
  /**
   * A GET URL on the storage's public address (the one clients reach, not the API's internal one; the signature
   * covers that host), valid `expiresInS`, whose answer forces a download (`Content-Disposition: attachment`).
   */
  presignDownload(key: string, options: { readonly expiresInS: number; readonly filename: string }): Promise<string>;
}

export type ObjectsMessage = { type: 'lend'; replyTo: Reply<ObjectStore> };

/** Storage is down, restarting or failing: 503 with Retry-After; no request row is written without its object. */
export class StorageUnavailableError extends ServiceUnavailableError {
  constructor(message: string, retryAfterMs = 5_000, options?: { cause?: unknown }) {
    super('objects', message, retryAfterMs, 'STORAGE_UNAVAILABLE', options);
  }
}
