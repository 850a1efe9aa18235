// The outbox relay: takes a batch of unpublished outbox rows (FOR UPDATE SKIP LOCKED, so several API instances
// relay side by side without publishing a row twice), publishes each on the broker's confirm channel with
// message id = outbox id, and marks published only the rows the broker confirmed — all in one transaction, so a
// crash before the commit leaves the rows for the next relay (consumers dedupe the copy by message id).
import { BrokerUnavailableError, type Broker } from '../adapters/broker/broker.js';
import type { PriorityQueue } from '../domain/priority.js';
import type { Clock } from '../clock.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { errorCode, errorMessage, toError } from '../errors/app-error.js';

export interface OutboxRelayDeps {
  db(): Promise<PgHandle>;
  /** The Broker (from the broker actor); its publish resolves only once confirmed. */
  broker(): Promise<Broker>;
  readonly clock: Clock;
  /** Rows per transaction. @defaultValue 100 */
  readonly batchSize?: number;
}

export interface RelayBatchResult {
  /** Rows this relay locked (rows locked by another relay are skipped, not counted). */
  readonly claimed: number;
  readonly published: number;
  readonly failed: number;
  /** The first failure of the batch (BROKER_UNAVAILABLE while RabbitMQ is down). */
  readonly error?: Error;
}

interface OutboxRow {
  id: string;
  job_id: string;
  queue: PriorityQueue;
  payload: unknown;
}

export const DEFAULT_RELAY_BATCH = 100;

export class OutboxRelay {
  readonly batchSize: number;

  constructor(private readonly deps: OutboxRelayDeps) {
    this.batchSize = deps.batchSize ?? DEFAULT_RELAY_BATCH;
  }

  /** One batch. Throws when the database or the broker actor cannot be reached; publish failures are in the result. */
  async relayBatch(): Promise<RelayBatchResult> {
    const broker = await this.deps.broker();
    if (!broker.isUp) {
      // Nothing to gain by locking rows: publishes would reject at once.
      return { claimed: 0, published: 0, failed: 0, error: new BrokerUnavailableError('RabbitMQ is unavailable') };
    }
    const db = await this.deps.db();
    return db.transaction(async (client) => {
      const { rows } = await client.query<OutboxRow>(
        `SELECT id, job_id, queue, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };
      // All publishes in flight together: the confirm channel pipelines them.
      const results = await Promise.allSettled(
        rows.map((row) =>
          broker.publish(row.queue, Buffer.from(JSON.stringify(row.payload)), { messageId: row.id, headers: { 'x-job-id': row.job_id } }),
        ),
      );
      const published: string[] = [];
      const failed: Array<{ id: string; error: string }> = [];
      let firstError: Error | undefined;
      results.forEach((r, i) => {
        const id = rows[i]!.id;
        if (r.status === 'fulfilled') published.push(id);
        else {
          const error = toError(r.reason);
          firstError ??= error;
          failed.push({ id, error: `${errorCode(error) ?? 'ERROR'}: ${errorMessage(error)}`.slice(0, 1_000) });
        }
      });
      const now = new Date(this.deps.clock.now());
      if (published.length) {
        await client.query(`UPDATE outbox SET published_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])`, [published, now]);
      }
      if (failed.length) {
        await client.query(
          `UPDATE outbox o SET attempts = o.attempts + 1, last_error = f.error
             FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE o.id = f.id`,
          [failed.map((f) => f.id), failed.map((f) => f.error)],
        );
      }
      return { claimed: rows.length, published: published.length, failed: failed.length, ...(firstError ? { error: firstError } : {}) };
    });
  }
}
