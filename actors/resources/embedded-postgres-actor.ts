// Owns the embedded database (PGlite over the wire protocol) used when no DATABASE_URL is set.
import type { Reply } from '../../src/contracts/reply.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/adapters/postgres/embedded-postgres.js';
import type { ActorBehaviour } from '../../src/actor-behaviour.js';

export type EmbeddedPostgresMessage = { type: 'url'; replyTo: Reply<string> };

export function embeddedPostgresActor(dataDir: string): () => ActorBehaviour<EmbeddedPostgres, EmbeddedPostgresMessage> {
  return () => ({
    async init(ctx) {
      const db = await startEmbeddedPostgres(dataDir);
      ctx.log.info({ dataDir }, 'embedded PostgreSQL (PGlite) started');
      return db;
    },
    handle(db, msg) {
      msg.replyTo.ok(db.url);
      return db;
    },
    async cleanup(db) {
      await db.close();
    },
  });
}
