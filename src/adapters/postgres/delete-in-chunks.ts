// Deleting many rows without one long statement: slices of `chunk` rows until a slice deletes fewer, so no
// statement holds many locks for long (the purges of finished work and past budget days).
import type { PgHandle } from './postgres-messages.js';

/** Runs `statement` ($1 = the cut-off, $2 = the slice size) until it deletes fewer than a slice; the total deleted. */
export async function deleteInChunks(db: PgHandle, statement: string, cutoff: Date | string, chunk = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(statement, [cutoff, chunk]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < chunk) return total;
  }
}
