import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlSourceActor } from '../../actors/resources/sql-source-actor.js';
import type { SourceMessage, SourceQuery } from '../../src/adapters/mssql/source-messages.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import type { PostgresMessage } from '../../src/adapters/postgres/postgres-messages.js';
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { testRuntime } from '../support/supervision.js';

// The twin tables mirror the real ones (same names); this one is made here, the catalogue's are another part's.
const SALES: SourceQuery = {
  name: 'sales-of-meter',
  tsql: 'SELECT TOP (@limit) [NUMERO_COMMANDE], [MONTANT_TTC] FROM [HEXING_SENELECBILL_ALHDL2] WHERE [NUMERO_COMPTEUR] = @meter ORDER BY [DATE_TRANSACTION] DESC',
  twin: `SELECT "NUMERO_COMMANDE", "MONTANT_TTC" FROM "HEXING_SENELECBILL_ALHDL2" WHERE "NUMERO_COMPTEUR" = @meter AND "NOM_OPERATEUR" <> 'x@y' ORDER BY "DATE_TRANSACTION" DESC LIMIT @limit`,
  params: { meter: '14212345678', limit: 2 },
};

describe('sql source in twin mode', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await pool.query(`CREATE TABLE "HEXING_SENELECBILL_ALHDL2" ("NUMERO_COMMANDE" text, "NUMERO_COMPTEUR" text, "MONTANT_TTC" numeric, "NOM_OPERATEUR" text, "DATE_TRANSACTION" timestamp)`);
    await pool.query(`INSERT INTO "HEXING_SENELECBILL_ALHDL2" VALUES
      ('C1', '14212345678', 5000, 'op', '2026-01-01'), ('C2', '14212345678', 10000, 'op', '2026-02-01'),
      ('C3', '14212345678', 2000, 'op', '2026-03-01'), ('C4', '99999999999', 7000, 'op', '2026-04-01')`);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('answers a named query from its twin on the product PostgreSQL, the parameters bound by name', async () => {
    const { runtime } = testRuntime();
    // The postgres actor's part: lend a handle on the database.
    const postgres = (): ActorBehaviour<null, PostgresMessage> => ({
      init: () => null,
      handle: (s, msg) => {
        msg.replyTo.ok(poolHandle(pool));
        return s;
      },
    });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({ name: 'postgres', behaviour: postgres }),
          actor({ name: 'source-sic', readiness: 'optional', behaviour: sqlSourceActor({ source: 'sic', mode: { kind: 'twin' }, queryTimeoutMs: 5_000 }) }),
        ],
      }),
    );
    try {
      const rows = await runtime.ask<SourceMessage, 'query'>('source-sic', 'query', { query: SALES }, 60_000);
      expect(rows).toEqual([
        { NUMERO_COMMANDE: 'C3', MONTANT_TTC: '2000' },
        { NUMERO_COMMANDE: 'C2', MONTANT_TTC: '10000' },
      ]);
      const part = runtime.readiness('test').parts.find((p) => p.name === 'source-sic');
      expect(part).toMatchObject({ state: 'running', required: false });
      await expect(runtime.ask<SourceMessage, 'query'>('source-sic', 'query', { query: { ...SALES, twin: 'SELECT nope FROM nowhere' } }, 60_000)).rejects.toMatchObject({
        code: 'SOURCE_QUERY_FAILED',
        query: 'sales-of-meter',
      });
    } finally {
      await runtime.stop();
    }
  });
});
