// The demo's utility data (Build 7): the twins the embedded mode seeds, read back through the named queries, and the
// demo customer's meters linked at start, idempotently.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import {
  contractDetails, latestBills, latestPurchases, monthlyBills, monthlyPurchases, postpaidAccount, prepaidCustomer, subscriptionSteps,
} from '../../src/customer-data/index.js';
import { DEMO_AGENCY, DEMO_CUSTOMER, seedDemoAccounts } from '../../src/demo/demo-accounts.js';
import { DEMO_NOTICE, DEMO_POSTPAID, DEMO_PREPAID, seedDemoCustomerData } from '../../src/demo/demo-customer-data.js';
import { type TestDatabase, createTestDatabase } from '../support/services.js';
import { readTwin } from '../support/source-twin.js';

describe('demo customer data', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const now = new Date('2026-12-03T15:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    const handle = poolHandle(pool);
    await seedDemoAccounts(handle, async () => '$2b$04$demo.hash.not.used.for.login.in.this.test.........', now);
    await seedDemoCustomerData(handle, now);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const prepaid = DEMO_PREPAID[0]!;
  const postpaid = DEMO_POSTPAID[0]!;

  it("the demo customer is the owner on file of one prepaid meter and one postpaid account (the phone as SIC writes it, E.164 once mapped)", async () => {
    const [customer] = await readTwin(pool, prepaidCustomer, { meter: prepaid.meter });
    expect(customer).toMatchObject({ meterNumber: prepaid.meter, police: prepaid.police, phone: DEMO_CUSTOMER.phone, agency: DEMO_AGENCY.code });
    const [account] = await readTwin(pool, postpaidAccount, { account: postpaid.account });
    expect(account).toMatchObject({ contractAccount: postpaid.account, phone: DEMO_CUSTOMER.phone, agency: DEMO_AGENCY.code });
    const [contract] = await readTwin(pool, contractDetails, { account: postpaid.account });
    expect(contract).toMatchObject({ contractAccount: postpaid.account, phone: DEMO_CUSTOMER.phone, email: postpaid.email });
  });

  it('a year of purchases up to the day of the start, newest first, each with its three STS codes, and every month totalled', async () => {
    const rows = await readTwin(pool, latestPurchases, { meter: prepaid.meter, police: prepaid.police, limit: 100 });
    expect(rows).toHaveLength(prepaid.monthly.flat().length);
    const times = rows.map((r) => Date.parse(r.purchasedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times[0]).toBeLessThanOrEqual(now.getTime());
    expect(times.at(-1)).toBeGreaterThan(now.getTime() - 366 * 86_400_000);
    for (const r of rows) expect(r.tokens).toHaveLength(3);
    expect(rows.reduce((sum, r) => sum + r.amountPaidFcfa, 0)).toBe(prepaid.monthly.flat().reduce((a, b) => a + b, 0));
    const thisYear = await readTwin(pool, monthlyPurchases, { meter: prepaid.meter, police: prepaid.police, year: 2026 });
    // From January to December 2026: the last twelve months from December are all in the year.
    expect(thisYear.map((m) => m.month)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(thisYear.map((m) => m.amountPaidFcfa)).toEqual(prepaid.monthly.map((amounts) => amounts.reduce((a, b) => a + b, 0)));
  });

  it('six bills, one every two months, all issued before the start, and their monthly totals', async () => {
    const bills = await readTwin(pool, latestBills, { account: postpaid.account, limit: 100 });
    expect(bills).toHaveLength(6);
    for (const b of bills) expect(Date.parse(b.issuedAt)).toBeLessThan(now.getTime());
    expect(bills.map((b) => b.consumptionKwh.total).reverse()).toEqual(postpaid.consumption);
    const months = await readTwin(pool, monthlyBills, { account: postpaid.account, year: 2026 });
    expect(months.length).toBeGreaterThanOrEqual(5);
  });

  it("the demo customer's subscription request answers to their phone, two steps done of four", async () => {
    const steps = await readTwin(pool, subscriptionSteps, { notice: DEMO_NOTICE });
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(steps.every((s) => s.phone === DEMO_CUSTOMER.phone)).toBe(true);
    expect(steps.map((s) => s.doneAt !== null)).toEqual([true, true, false, false]);
  });

  it("links the demo customer's two meters as owner, the prepaid one by default, queued for SIC; a second start changes nothing", async () => {
    const links = async () =>
      (await pool.query(`SELECT kind, meter, police, agency_code, owner, state, is_default FROM meter_links WHERE user_id = $1 ORDER BY kind DESC`, [DEMO_CUSTOMER.id])).rows;
    const first = await links();
    expect(first).toEqual([
      { kind: 'prepaid', meter: prepaid.meter, police: prepaid.police, agency_code: DEMO_AGENCY.code, owner: true, state: 'active', is_default: true },
      { kind: 'postpaid', meter: postpaid.account, police: null, agency_code: DEMO_AGENCY.code, owner: true, state: 'active', is_default: false },
    ]);
    const queued = await pool.query(`SELECT kind, meter FROM sic_registrations ORDER BY kind DESC`);
    expect(queued.rows).toEqual([{ kind: 'prepaid', meter: prepaid.meter }, { kind: 'postpaid', meter: postpaid.account }]);

    const sales = async () => (await pool.query(`SELECT count(*)::int AS n FROM sic."HEXING_SENELECBILL_ALHDL2"`)).rows[0].n as number;
    const before = await sales();
    await seedDemoCustomerData(poolHandle(pool), new Date(now.getTime() + 3_600_000));
    expect(await links()).toEqual(first);
    expect(await sales()).toBe(before);
  });
});
