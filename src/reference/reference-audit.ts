// Every admin edit of reference data and its reference_audit row, written in one transaction: both or neither.
import type { PoolClient } from 'pg';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { InvalidRefreshTokenError } from '../accounts/index.js';
import type { ReferenceEntity } from '../contracts/reference-messages.js';

/** What an edit did, as the audit keeps it: the row before (null for a create) and after (null for a delete). */
export interface Change<T> {
  readonly action: 'create' | 'update' | 'delete';
  readonly before: object | null;
  readonly after: object | null;
  readonly result: T;
}

export interface AuditEntry {
  readonly at: Date;
  readonly actorId: string;
  readonly entity: ReferenceEntity;
  readonly key: string;
}

/** Runs `change` and writes its audit row in the same transaction; a failure of either rolls both back. */
export function audited<T>(db: PgHandle, entry: AuditEntry, change: (client: PoolClient) => Promise<Change<T>>): Promise<T> {
  return db.transaction(async (client) => {
    const c = await change(client);
    try {
      await client.query(
        `INSERT INTO reference_audit (at, actor_id, entity, entity_key, action, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [entry.at, entry.actorId, entry.entity, entry.key, c.action, json(c.before), json(c.after)],
      );
    } catch (e) {
      // actor_id is the row's one foreign key: a token whose user row is gone, answered as accounts answer it (401).
      if (isForeignKeyViolation(e)) throw new InvalidRefreshTokenError('The account of this token no longer exists; sign in again.', { cause: e });
      throw e;
    }
    return c.result;
  });
}

function json(row: object | null): string | null {
  return row === null ? null : JSON.stringify(row);
}

/** PostgreSQL's foreign-key violation: a row another table still names. */
export function isForeignKeyViolation(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '23503';
}
