// The twins of migration 0014 on the real PostgreSQL: each named query's twin over synthetic rows, mapped.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_CATALOGUE } from '../../src/adapters/mssql/source-catalogue.js';
import { startEmbeddedPostgres } from '../../src/adapters/postgres/embedded-postgres.js';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import {
  SOURCE_QUERIES, billsInPeriod, contractDetails, latestBills, latestPurchases, monthlyBills, monthlyPurchases, postpaidAccount,
  prepaidCustomer, purchasesInPeriod, registerAppMeter, subscriptionSteps,
} from '../../src/customer-data/index.js';
import { type TestDatabase, createTestDatabase } from '../support/services.js';
import { insertTwinRows, readTwin, runTwin, writeTwin } from '../support/source-twin.js';
import { ACCOUNT, BILLS, METER, POLICE, SALES, SAMPLE_INPUTS, at, bill, sale, seedTwinRows } from '../support/source-twin-rows.js';
import { selectedNames } from '../support/tsql-catalogue.js';

describe('source twins', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await seedTwinRows(pool);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("migration 0014 creates every catalogued table with exactly the catalogue's columns, in its source's schema", async () => {
    const { rows } = await pool.query<{ table_schema: string; table_name: string; column_name: string }>(
      `SELECT table_schema, table_name, column_name FROM information_schema.columns
       WHERE table_schema IN ('sic', 'histh2mc', 'bi_ods') ORDER BY table_schema, table_name, ordinal_position`,
    );
    const twins: Record<string, Record<string, string[]>> = {};
    for (const row of rows) ((twins[row.table_schema] ??= {})[row.table_name] ??= []).push(row.column_name);
    const expected = Object.fromEntries(
      Object.entries(SOURCE_CATALOGUE).map(([source, tables]) => [
        source,
        Object.fromEntries(Object.entries(tables).map(([table, columns]) => [table, [...columns]])),
      ]),
    );
    expect(twins).toEqual(expected);
  });

  it('each read returns, from its twin, the very columns its T-SQL selects: the one mapper reads the same names from both', async () => {
    for (const query of SOURCE_QUERIES.filter((q) => q.kind === 'read')) {
      const { fields } = await runTwin(pool, query, SAMPLE_INPUTS[query.name]!);
      expect({ query: query.name, names: fields.map((f) => f.name) }).toEqual({ query: query.name, names: selectedNames(query.tsql) });
    }
  });

  it('latest purchases: the newest first (ties by order number), as many as the limit, only this meter and POC', async () => {
    const rows = await readTwin(pool, latestPurchases, { meter: METER, police: POLICE, limit: 3 });
    expect(rows.map((r) => r.orderNumber)).toEqual(['C08', 'C07', 'C06']);
    expect(rows[0]).toMatchObject({ meterNumber: METER, police: POLICE, purchasedAt: '2027-01-01T00:00:00.000Z', amountPaidFcfa: 4000, energyKwh: 33 });
    expect(rows[0]!.tokens).toEqual(['12345678901234567890']);
    const all = await readTwin(pool, latestPurchases, { meter: METER, police: POLICE, limit: 100 });
    expect(all.map((r) => r.orderNumber)).toEqual(['C08', 'C07', 'C06', 'C05', 'C04', 'C03', 'C02', 'C01']);
  });

  it('purchases in a period: from inclusive, to exclusive, newest first, within the limit', async () => {
    const period = { meter: METER, police: POLICE, from: at('2026-01-01T00:00:00Z'), to: at('2026-03-15T12:00:00Z') };
    expect((await readTwin(pool, purchasesInPeriod, { ...period, limit: 10 })).map((r) => r.orderNumber)).toEqual(['C05', 'C04', 'C03', 'C02']);
    expect((await readTwin(pool, purchasesInPeriod, { ...period, limit: 2 })).map((r) => r.orderNumber)).toEqual(['C05', 'C04']);
  });

  it('the amount paid is MONTANT_RECU, or the TTC when it is null', async () => {
    const rows = await readTwin(pool, latestPurchases, { meter: METER, police: POLICE, limit: 100 });
    const paid = Object.fromEntries(rows.map((r) => [r.orderNumber, r.amountPaidFcfa]));
    expect(paid).toMatchObject({ C02: 5000, C03: 2000, C04: 3100, C05: 10000 });
  });

  it("monthly purchases: one row per month with a sale, in the year's bounds, TTC counted when nothing was recorded paid", async () => {
    expect(await readTwin(pool, monthlyPurchases, { meter: METER, police: POLICE, year: 2026 })).toEqual([
      { month: 1, purchases: 2, amountPaidFcfa: 7000, energyKwh: 57.8 },
      { month: 2, purchases: 1, amountPaidFcfa: 3100, energyKwh: 24.7 },
      { month: 3, purchases: 3, amountPaidFcfa: 12500, energyKwh: 102.35 },
    ]);
    expect(await readTwin(pool, monthlyPurchases, { meter: METER, police: POLICE, year: 2025 })).toEqual([
      { month: 12, purchases: 1, amountPaidFcfa: 1000, energyKwh: 8 },
    ]);
    expect(await readTwin(pool, monthlyPurchases, { meter: METER, police: POLICE, year: 2024 })).toEqual([]);
  });

  it('prepaid customer by meter number, phone in E.164; an unknown meter has none', async () => {
    expect(await readTwin(pool, prepaidCustomer, { meter: METER })).toEqual([
      {
        meterNumber: METER, police: POLICE, phone: '+221771234567', customerNumber: 'CL-1', name: 'FALL MODOU', address: 'HLM 5',
        usage: 'DOMESTIQUE', agency: 'DAKAR-PLATEAU',
      },
    ]);
    expect(await readTwin(pool, prepaidCustomer, { meter: '00000000000' })).toEqual([]);
  });

  it('postpaid account by contract account: partner without its zeros, blank address as null', async () => {
    expect(await readTwin(pool, postpaidAccount, { account: ACCOUNT })).toEqual([
      { contractAccount: ACCOUNT, partner: '1000001', phone: '+221760000001', name: 'DIOP AWA', address: null, tariff: 'DPP', agency: 'PIKINE' },
    ]);
  });

  it('latest bills: the newest first (ties by id), as many as the limit, only this account', async () => {
    expect((await readTwin(pool, latestBills, { account: ACCOUNT, limit: 2 })).map((b) => b.billNumber)).toEqual(['F5', 'F4']);
    const all = await readTwin(pool, latestBills, { account: ACCOUNT, limit: 6 });
    expect(all.map((b) => b.billNumber)).toEqual(['F5', 'F4', 'F3', 'F2', 'F1']);
    expect(all[2]).toMatchObject({
      id: '3', contractAccount: ACCOUNT, issuedAt: '2026-03-05T00:00:00.000Z', dueAt: '2026-03-20T00:00:00.000Z', billingMonth: 2,
      billingYear: 2026, totalFcfa: 15001, consumptionKwh: { band1: 150.5, band2: null, band3: null, total: 150.5 }, daysBilled: 61,
    });
  });

  it('bills in a period: by issue date, from inclusive, to exclusive', async () => {
    const rows = await readTwin(pool, billsInPeriod, { account: ACCOUNT, from: at('2026-01-05T00:00:00Z'), to: at('2026-05-05T00:00:00Z'), limit: 10 });
    expect(rows.map((b) => b.billNumber)).toEqual(['F3', 'F2']);
  });

  it('monthly bills: by the month billed, for the year billed', async () => {
    expect(await readTwin(pool, monthlyBills, { account: ACCOUNT, year: 2026 })).toEqual([
      { month: 2, bills: 1, totalFcfa: 15001, energyKwh: 150.5 },
      { month: 4, bills: 2, totalFcfa: 9500, energyKwh: 90 },
    ]);
    expect((await readTwin(pool, monthlyBills, { account: ACCOUNT, year: 2025 })).map((m) => m.month)).toEqual([10, 12]);
  });

  it('contract details: found with or without the leading zeros, served without them, the smallest phone in E.164', async () => {
    const expected = [
      { contractAccount: '12345678', partner: '1000001', firstName: 'Awa', lastName: 'Diop', phone: '+221775000001', email: 'awa.diop@example.sn' },
    ];
    expect(await readTwin(pool, contractDetails, { account: '12345678' })).toEqual(expected);
    expect(await readTwin(pool, contractDetails, { account: '000012345678' })).toEqual(expected);
    expect(await readTwin(pool, contractDetails, { account: '87654321' })).toEqual([
      { contractAccount: '87654321', partner: '1000002', firstName: 'Ibou', lastName: 'Ndiaye', phone: null, email: null },
    ]);
  });

  it("subscription steps: in their order, done when dated, this request's only", async () => {
    const steps = await readTwin(pool, subscriptionSteps, { notice: '400001234' });
    expect(steps.map((s) => [s.step, s.doneAt])).toEqual([
      [1, '2026-01-10T09:30:00.000Z'],
      [2, '2026-01-15T00:00:00.000Z'],
      [3, null],
    ]);
    expect(steps[0]).toMatchObject({ noticeNumber: '400001234', phone: '+221771234567', partner: '1000001', updatedAt: '2026-01-15T10:00:00.000Z' });
    expect(await readTwin(pool, subscriptionSteps, { notice: '400000000' })).toEqual([]);
  });

  it('registering an app meter inserts it once: a retry and concurrent registrations change nothing more', async () => {
    const meter = '14211110000';
    expect(await writeTwin(pool, registerAppMeter, { meter, type: 'prepaid' })).toBe(1);
    expect(await writeTwin(pool, registerAppMeter, { meter, type: 'prepaid' })).toBe(0);
    const other = '14222220000';
    const counts = await Promise.all(Array.from({ length: 8 }, () => writeTwin(pool, registerAppMeter, { meter: other, type: 'postpaid' })));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    const { rows } = await pool.query('SELECT "numero", "type_compteur" FROM sic."compteurs_app_mobile" ORDER BY "numero"');
    expect(rows).toEqual([
      { numero: meter, type_compteur: 1 },
      { numero: other, type_compteur: 2 },
    ]);
  });
});

describe('source twins on the embedded database (the demo runs them on PGlite)', () => {
  it('migration 0014 applies and every twin runs there, answering what it answers on PostgreSQL', async () => {
    expect(Object.keys(SAMPLE_INPUTS).sort()).toEqual(SOURCE_QUERIES.map((q) => q.name).sort());
    const embedded = await startEmbeddedPostgres('memory://');
    const pool = new pg.Pool({ connectionString: embedded.url, max: 1 });
    try {
      expect((await migrate({ databaseUrl: embedded.url })).applied).toContain('0014_source_twins');
      await insertTwinRows(pool, 'sic."HEXING_SENELECBILL_ALHDL2"', SALES.map((s) => sale(...s)));
      await insertTwinRows(pool, 'histh2mc."Historique"', BILLS.map((b) => bill(...b)));
      const answers: Record<string, unknown> = {};
      for (const query of SOURCE_QUERIES) {
        const input = SAMPLE_INPUTS[query.name]!;
        answers[query.name] = query.kind === 'read' ? await readTwin(pool, query, input) : await writeTwin(pool, query, input);
      }
      expect(answers['monthly-purchases']).toEqual([
        { month: 1, purchases: 2, amountPaidFcfa: 7000, energyKwh: 57.8 },
        { month: 2, purchases: 1, amountPaidFcfa: 3100, energyKwh: 24.7 },
        { month: 3, purchases: 3, amountPaidFcfa: 12500, energyKwh: 102.35 },
      ]);
      expect((answers['purchases-in-period'] as { orderNumber: string }[]).map((r) => r.orderNumber)).toEqual(['C07', 'C06', 'C05', 'C04', 'C03', 'C02']);
      expect((answers['latest-bills'] as { billNumber: string }[]).map((b) => b.billNumber)).toEqual(['F5', 'F4', 'F3', 'F2', 'F1']);
      expect(answers['register-app-meter']).toBe(1);
      expect(answers['contract-details']).toEqual([]);
    } finally {
      await pool.end();
      await embedded.close();
    }
    // PGlite's start (WASM) takes seconds on a busy machine.
  }, 60_000);
});
