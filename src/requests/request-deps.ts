// What the request operations are built from: the database, object storage, the clock and the configured limits.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { ObjectStore } from '../adapters/s3/objects-messages.js';
import type { Clock } from '../clock.js';

export interface RequestDeps {
  db(): Promise<PgHandle>;
  /** Object storage; rejects with STORAGE_UNAVAILABLE (503) while it is down. */
  objects(): Promise<ObjectStore>;
  readonly clock: Clock;
  /** The largest attachment, in bytes (REQUEST_ATTACHMENT_MAX_BYTES). */
  readonly maxBytes: number;
  /** How long a download URL stays valid (REQUEST_ATTACHMENT_URL_TTL_S). */
  readonly urlTtlS: number;
  /** Reports what failed after the answer was decided (a cleanup the janitor will redo); never throws. */
  onCleanupError?(error: unknown, key: string): void;
}
