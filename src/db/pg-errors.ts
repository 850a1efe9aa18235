// Tells an outage of PostgreSQL (retry later) from a bug or a broken schema (a crash).

const OUTAGE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** True when the error says the server cannot be reached or is going away, not that the SQL is wrong. */
export function isPostgresOutage(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (OUTAGE_ERRNOS.has(code)) return true;
  // SQLSTATE class 08 (connection exception) except 08P01 (protocol violation: a configuration bug, e.g. a
  // startup parameter PgBouncer refuses), 57P01-03 (shutdown, cannot connect now), 53300 (too many connections).
  if ((code.startsWith('08') && code !== '08P01') || /^57P0[1-3]$/.test(code) || code === '53300') return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout expired|Connection ended|server closed the connection/i.test(msg);
}
