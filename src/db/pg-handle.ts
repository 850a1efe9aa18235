// A PgHandle over a pg pool: plain queries, and transactions on one connection with rollback on any error.
import type pg from 'pg';
import type { PgHandle } from '../contracts/postgres.js';

export function poolHandle(pool: pg.Pool): PgHandle {
  return {
    query: (text, values) => pool.query(text, values),
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
  };
}
