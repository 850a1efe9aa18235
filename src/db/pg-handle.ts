// A PgHandle over a pg pool: plain queries, and transactions on one connection with rollback on any error.
// Load (no free connection in time, a query past its timeout) is turned into DatabaseBusyError and reported.
import type pg from 'pg';
import type { PgHandle } from '../contracts/postgres.js';
import { DatabaseBusyError, isPostgresBusy } from './pg-errors.js';

/** `onBusy` hears every query refused under load (the postgres actor counts them). */
export function poolHandle(pool: pg.Pool, onBusy?: (error: DatabaseBusyError) => void): PgHandle {
  const typed = (e: unknown): unknown => {
    if (!isPostgresBusy(e) || e instanceof DatabaseBusyError) return e;
    const busy = new DatabaseBusyError(e);
    onBusy?.(busy);
    return busy;
  };
  return {
    query: (text, values) =>
      pool.query(text, values).catch((e: unknown) => {
        throw typed(e);
      }),
    transaction: async (fn) => {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw typed(e);
      }
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw typed(e);
      } finally {
        client.release();
      }
    },
  };
}
