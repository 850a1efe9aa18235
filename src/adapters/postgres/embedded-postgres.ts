// PGlite served over the PostgreSQL wire protocol on loopback, so the same `pg` code runs on a fresh clone.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** postgres://… URL of the socket server (port chosen by the OS). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts PGlite (persisted in `dataDir`, or in memory when it is `memory://`) and its socket server. */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  // More than one connection, or a second pg client is cut off (FACTS.md); PGlite still runs one at a time.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  try {
    await server.start();
  } catch (e) {
    await db.close();
    throw e;
  }
  const conn = server.getServerConn(); // "127.0.0.1:PORT"
  return {
    url: `postgres://postgres@${conn}/postgres`,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
