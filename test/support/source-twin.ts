// Runs named queries' twins on a test database as a source in twin mode would: `@name` → `$n`, rows through the mapper.
import type pg from 'pg';
import { positionalTwin } from '../../src/adapters/mssql/twin-params.js';
import { mapRows, queryParams, type ParamShape, type QueryInput, type SourceRead, type SourceWrite } from '../../src/adapters/mssql/source-query.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** The twin's raw answer (rows as pg hands them back, and their fields). */
export async function runTwin<S extends ParamShape>(
  db: Queryable,
  query: SourceRead<S, unknown> | SourceWrite<S>,
  input: QueryInput<S>,
): Promise<pg.QueryResult> {
  const { text, values } = positionalTwin(query.twin, queryParams(query, input));
  return db.query(text, values);
}

export async function readTwin<S extends ParamShape, R>(db: Queryable, query: SourceRead<S, R>, input: QueryInput<S>): Promise<R[]> {
  return mapRows(query, (await runTwin(db, query, input)).rows);
}

export async function writeTwin<S extends ParamShape>(db: Queryable, query: SourceWrite<S>, input: QueryInput<S>): Promise<number> {
  return (await runTwin(db, query, input)).rowCount ?? 0;
}

/** Inserts `rows` into a twin table (`schema."Table"`), naming each row's columns as given. */
export async function insertTwinRows(db: Queryable, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (const row of rows) {
    const columns = Object.keys(row);
    const names = columns.map((c) => `"${c}"`).join(', ');
    const slots = columns.map((_, i) => `$${i + 1}`).join(', ');
    await db.query(`INSERT INTO ${table} (${names}) VALUES (${slots})`, Object.values(row));
  }
}
