// Every named query's T-SQL, sent by the real mssql client to the TDS peer and run there from its own text, answers
// the same mapped rows as its PostgreSQL twin on the same synthetic rows.
import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceName } from '../../src/adapters/mssql/source-catalogue.js';
import { addParams } from '../../src/adapters/mssql/source-param-types.js';
import { type AnySourceQuery, type ParamShape, type SourceRead, mapRows, queryParams } from '../../src/adapters/mssql/source-query.js';
import { SOURCE_QUERIES, latestBills, latestPurchases, registerAppMeter, subscriptionSteps } from '../../src/customer-data/index.js';
import { type TestDatabase, createTestDatabase } from '../support/services.js';
import { ACCOUNT, METER, POLICE, SAMPLE_INPUTS, at, seedTwinRows } from '../support/source-twin-rows.js';
import { readTwin, writeTwin } from '../support/source-twin.js';
import { tdsTestCa } from '../support/tds/test-ca.js';
import { TdsPeer } from '../support/tds/tds-peer.js';

type Input = Record<string, unknown>;

// Inputs per query: the shared sample first, then the edges where two texts most easily part — ties under a limit,
// a period's exclusive end, a sale one second before the new year, padded and unpadded keys, nothing found.
const CASES: Record<string, readonly Input[]> = {
  'prepaid-customer': [SAMPLE_INPUTS['prepaid-customer']!, { meter: '00000000000' }],
  'postpaid-account': [SAMPLE_INPUTS['postpaid-account']!, { account: '300099999' }],
  'register-app-meter': [SAMPLE_INPUTS['register-app-meter']!],
  'latest-purchases': [SAMPLE_INPUTS['latest-purchases']!, { meter: METER, police: POLICE, limit: 3 }, { meter: METER, police: '5559999', limit: 10 }],
  'purchases-in-period': [
    SAMPLE_INPUTS['purchases-in-period']!,
    { meter: METER, police: POLICE, from: at('2026-01-01T00:00:00Z'), to: at('2026-03-15T12:00:00Z'), limit: 10 },
    { meter: METER, police: POLICE, from: at('2025-01-01T00:00:00Z'), to: at('2028-01-01T00:00:00Z'), limit: 2 },
  ],
  'monthly-purchases': [
    SAMPLE_INPUTS['monthly-purchases']!,
    { meter: METER, police: POLICE, year: 2025 },
    { meter: METER, police: POLICE, year: 2027 },
    { meter: METER, police: POLICE, year: 2024 },
  ],
  'latest-bills': [SAMPLE_INPUTS['latest-bills']!, { account: ACCOUNT, limit: 2 }],
  'bills-in-period': [
    SAMPLE_INPUTS['bills-in-period']!,
    { account: ACCOUNT, from: at('2026-01-05T00:00:00Z'), to: at('2026-05-05T00:00:00Z'), limit: 10 },
  ],
  'monthly-bills': [SAMPLE_INPUTS['monthly-bills']!, { account: ACCOUNT, year: 2025 }, { account: ACCOUNT, year: 2024 }],
  'contract-details': [SAMPLE_INPUTS['contract-details']!, { account: '000012345678' }, { account: '87654321' }, { account: '99' }],
  'subscription-steps': [SAMPLE_INPUTS['subscription-steps']!, { notice: '400000000' }],
};

// What mssql runs on every acquire (validateConnection), before the query itself.
const POOL_CHECK = 'SELECT 1;';

const SOURCES: readonly SourceName[] = ['sic', 'histh2mc', 'bi_ods'];

// DOMAIN.md does not give the real columns' types: SIC's and HISTH2MC's dates are sent as the older DATETIME, BI_ODS's
// as DATETIME2, so the one mapper meets both encodings tedious decodes.
const DATETIME_COLUMNS: Record<SourceName, readonly string[]> = {
  sic: ['DATE_TRANSACTION'],
  histh2mc: ['DATFACT', 'DATEECH'],
  bi_ods: [],
};

interface SourceLink {
  readonly peerDb: pg.Client;
  readonly peer: TdsPeer;
  readonly pool: sql.ConnectionPool;
}

let db: TestDatabase;
let twinPool: pg.Pool;
const links = new Map<SourceName, SourceLink>();

beforeAll(async () => {
  db = await createTestDatabase();
  twinPool = new pg.Pool({ connectionString: db.url, max: 2 });
  await seedTwinRows(twinPool);
  const certificate = await tdsTestCa();
  for (const source of SOURCES) {
    // The T-SQL names its tables bare or as dbo.X: each source's peer finds them in the twin's schema. UTC, because
    // SQL Server's datetimes carry no zone and the sources hold Dakar time, which is UTC: MONTH() and a DATE
    // compared with a datetime then read the same on both sides.
    const peerDb = new pg.Client({ connectionString: db.url, options: `-c search_path=${source} -c TimeZone=UTC` });
    await peerDb.connect();
    const peer = await TdsPeer.start({ db: peerDb, certificate, datetimeColumns: DATETIME_COLUMNS[source] });
    const pool = new sql.ConnectionPool({
      server: 'localhost',
      port: peer.port,
      database: source.toUpperCase(),
      user: 'samaconso_reader',
      password: randomBytes(12).toString('hex'),
      connectionTimeout: 5_000,
      requestTimeout: 5_000,
      pool: { max: 1, min: 0 },
      options: { encrypt: true, cryptoCredentialsDetails: { ca: certificate.caPem } },
    });
    pool.on('error', () => undefined); // without it a socket killed mid-reply can crash the process (FACTS.md)
    await pool.connect();
    links.set(source, { peerDb, peer, pool });
  }
});

afterAll(async () => {
  for (const link of links.values()) {
    await link.pool.close().catch(() => undefined);
    await link.peer.close();
    await link.peerDb.end();
  }
  await twinPool?.end();
  await db?.drop();
});

function link(source: SourceName): SourceLink {
  const found = links.get(source);
  if (!found) throw new Error(`no TDS peer for ${source}`);
  return found;
}

/** Runs the query's T-SQL through mssql, its parameters as queryParams gives them, declared as the source actor declares them. */
async function runTsql(query: AnySourceQuery, input: Input): Promise<sql.IResult<Record<string, unknown>>> {
  const request = link(query.source).pool.request();
  addParams(request, queryParams(query, input as never));
  return request.query(query.tsql);
}

async function readThroughPeer<R>(query: SourceRead<ParamShape, R>, input: Input): Promise<R[]> {
  return mapRows(query, (await runTsql(query, input)).recordset);
}

describe('T-SQL through the TDS peer vs the twins', () => {
  it('has inputs for every named query (a query added without a case fails here)', () => {
    expect(Object.keys(CASES).sort()).toEqual(SOURCE_QUERIES.map((q) => q.name).sort());
  });

  it.each(SOURCE_QUERIES.filter((q) => q.kind === 'read').map((q) => [q.name, q] as const))(
    '%s: the T-SQL, run by the peer from its own text, maps to the twin\'s rows',
    async (_name, query) => {
      const read = query as SourceRead<ParamShape, unknown>;
      const queries = link(read.source).peer.stats.queries;
      let found = 0;
      for (const input of CASES[read.name] ?? []) {
        const before = queries.length;
        const twin = await readTwin(twinPool, read, input as never);
        const peer = await readThroughPeer(read, input);
        expect({ input, rows: peer }).toEqual({ input, rows: twin });
        // The peer received the production text itself (besides the pool's `SELECT 1;` check): nothing stands in for it.
        expect(queries.slice(before).filter((q) => q !== POOL_CHECK)).toEqual([read.tsql]);
        found += twin.length;
      }
      // Equal answers must mean something: some case of each query finds rows.
      expect(found).toBeGreaterThan(0);
    },
  );

  it('text parameters are declared VARCHAR(100), so SQL Server converts the parameter and never the column; numbers INT', async () => {
    const peer = link('sic').peer;
    const before = peer.stats.parameters.length;
    await runTsql(latestPurchases, { meter: METER, police: POLICE, limit: 3 });
    const declared = peer.stats.parameters.slice(before).at(-1)!.filter((p) => !['@statement', '@params'].includes(p.name));
    expect(declared.map((p) => [p.name, p.type])).toEqual([['@meter', 'varchar(100)'], ['@police', 'varchar(100)'], ['@limit', 'int']]);
  });

  it('dates cross as DATETIME (SIC, HISTH2MC) and DATETIME2 (BI_ODS) and map to the instants the twin stores', async () => {
    const sales = await runTsql(latestPurchases, { meter: METER, police: POLICE, limit: 100 });
    expect(sales.recordset.columns.DATE_TRANSACTION!.type).toBe(sql.DateTime);
    expect(mapRows(latestPurchases, sales.recordset).at(-1)).toMatchObject({ orderNumber: 'C01', purchasedAt: '2025-12-31T23:59:59.000Z' });
    const bills = await runTsql(latestBills, { account: ACCOUNT, limit: 1 });
    expect(bills.recordset.columns.DATFACT!.type).toBe(sql.DateTime);
    const steps = await runTsql(subscriptionSteps, { notice: '400001234' });
    expect(steps.recordset.columns.DT_DERNIERE_MAJ!.type).toBe(sql.DateTime2);
    expect(mapRows(subscriptionSteps, steps.recordset)[0]).toMatchObject({ updatedAt: '2026-01-15T10:00:00.000Z' });
  });

  it('register-app-meter: through the peer it inserts once (1 then 0 rows), and the twin agrees on the same table', async () => {
    const sic = link('sic');
    const first = CASES['register-app-meter']![0] as { meter: string; type: 'prepaid' };
    expect((await runTsql(registerAppMeter, first)).rowsAffected).toEqual([1]);
    expect((await runTsql(registerAppMeter, first)).rowsAffected).toEqual([0]);
    expect(await writeTwin(twinPool, registerAppMeter, first)).toBe(0);
    // And the other way round: what the twin registered, the T-SQL finds there.
    const second = { meter: '14244440000', type: 'postpaid' as const };
    expect(await writeTwin(twinPool, registerAppMeter, second)).toBe(1);
    expect((await runTsql(registerAppMeter, second)).rowsAffected).toEqual([0]);
    const { rows } = await twinPool.query('SELECT "numero", "type_compteur" FROM sic."compteurs_app_mobile" ORDER BY "numero"');
    expect(rows).toEqual([
      { numero: METER, type_compteur: 1 },
      { numero: '14244440000', type_compteur: 2 },
    ]);
    expect(sic.peer.stats.queries.filter((q) => q === registerAppMeter.tsql)).toHaveLength(3);
  });
});
