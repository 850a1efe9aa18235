// A PgHandle over a pg pool: plain queries, and transactions on one connection with rollback on any error.
// Load (no free connection in time, a query past its timeout) is turned into DatabaseBusyError and reported.
import type pg from 'pg';
import type { PgHandle } from './postgres-messages.js';
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
      // pg emits 'error' on a client whose server drops it; while checked out the pool does not listen, and an
      // 'error' nobody hears ends the process. The loss fails the transaction's next query anyway: note it, and
      // release the client with it so the pool discards it.
      let lost: Error | undefined;
      const onLost = (e: Error): void => {
        lost ??= e;
      };
      client.on('error', onLost);
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        if (lost) throw typed(lost); // what failed the query ("not queryable") is the loss: report it as such
        await client.query('ROLLBACK').catch(() => undefined);
        throw typed(e);
      } finally {
        client.off('error', onLost);
        client.release(lost);
      }
    },
  };
}
