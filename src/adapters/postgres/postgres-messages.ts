// Messages of the postgres resource actor: it owns the pool and hands out a handle while the database is up.
import type { QueryResult, QueryResultRow, PoolClient } from 'pg';
import type { Reply } from '../../contracts/reply.js';

export interface PgHandle {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /** Runs `fn` in one transaction on one connection (safe behind PgBouncer in transaction mode). */
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
}

/** Where a query can run: a pg PoolClient inside a transaction, or a PgHandle. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export type PostgresMessage =
  | { type: 'lend'; replyTo: Reply<PgHandle> }
  /**
   * A handle on a connection of its own (the pool's when it has only one) for the node registry's heartbeat: work
   * saturating the pool must never delay the beat that tells the other nodes this one is alive.
   */
  | { type: 'lend-registry'; replyTo: Reply<PgHandle> };
