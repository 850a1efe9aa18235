// The meters service on the real PostgreSQL with SIC's answers scripted: a link or a decision and its notification
// commit together or not at all (a notification that cannot be written leaves no link and no decision), concurrent
// links of one meter by one user end in one link and a 409, and the job written is a `system` job with its outbox row.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { ManualClock } from '../../src/clock.js';
import type { Caller } from '../../src/contracts/caller.js';
import { MeterLinkService } from '../../src/meters/index.js';
import { insertCustomer, type TestUser } from '../support/meter-links.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

const METER = '14299500001';
const SHARED = '14299500002';
let db: TestDatabase;
let sql: pg.Pool;
let service: MeterLinkService;
let owner: TestUser;
const clock = new ManualClock(Date.UTC(2026, 11, 3, 9));
const asCustomer = (u: TestUser): Caller => ({ userId: u.id, role: 'customer', agency: null });
let phone = 0;
// Calls of `activated` (what wakes the SIC registrar), counted after each commit that made a link active.
let activations = 0;
const someone = () => insertCustomer(sql, `+2217795${String(++phone).padStart(5, '0')}`, 'Sokhna');

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 4 });
  const handle = poolHandle(sql);
  service = new MeterLinkService({
    db: async () => handle,
    // SIC as the reader would map it: the meter, its POC, the owner's phone, its agency.
    reader: {
      read: async (_query: unknown, input: Record<string, unknown>) => ({
        rows:
          input.meter === METER
            ? [{ meterNumber: METER, police: 'P500001', phone: '+221779400001', agency: 'THIES' }]
            : input.meter === SHARED
              ? // A former customer's row beside the current one: POC 9 and POC 10.
                [{ meterNumber: SHARED, police: '9', phone: '+221779409009', agency: 'THIES' }, { meterNumber: SHARED, police: '10', phone: '+221779409010', agency: 'THIES' }]
              : [],
        stale: false,
        ageMs: 0,
      }),
    } as never,
    limit: async () => undefined,
    clock,
    activated: () => void activations++,
  });
  owner = await insertCustomer(sql, '+221779400001', 'Omar');
  expect(await service.link(asCustomer(owner), { kind: 'prepaid', meter: METER }, '198.51.100.1')).toMatchObject({ state: 'active', owner: true });
  expect(activations).toBe(1);
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

/** Takes a notification type away for one call: writing its job then fails inside the transaction. */
async function withoutType<T>(code: string, run: () => Promise<T>): Promise<void> {
  const { rows } = await sql.query(`DELETE FROM notification_types WHERE code = $1 RETURNING *`, [code]);
  try {
    await expect(run()).rejects.toThrow(`notification type "${code}"`);
  } finally {
    await sql.query(`INSERT INTO notification_types (code, queue, label, ttl_seconds, collapse_key) VALUES ($1, $2, $3, $4, $5)`, [
      rows[0].code, rows[0].queue, rows[0].label, rows[0].ttl_seconds, rows[0].collapse_key,
    ]);
  }
}

describe('meters service on PostgreSQL', () => {
  beforeEach(() => clock.advance(1_000));

  it('leaves no pending link when the owner\'s notification cannot be written, and writes both once it can', async () => {
    const requester = await someone();
    await withoutType('meter_access_request', () => service.link(asCustomer(requester), { kind: 'prepaid', meter: METER }, '198.51.100.2'));
    expect((await sql.query(`SELECT 1 FROM meter_links WHERE user_id = $1`, [requester.id])).rowCount).toBe(0);

    const pending = await service.link(asCustomer(requester), { kind: 'prepaid', meter: METER }, '198.51.100.2');
    const { rows } = await sql.query(
      `SELECT j.caller_role, j.caller_agency, j.created_by, j.target, j.queue, o.queue AS outbox_queue, o.payload FROM notification_jobs j JOIN outbox o ON o.job_id = j.id
        WHERE j.data ->> 'linkId' = $1`,
      [pending.id],
    );
    expect(rows).toEqual([
      expect.objectContaining({ caller_role: 'system', caller_agency: null, created_by: requester.id, target: { kind: 'user', userId: owner.id }, queue: 'high_priority', outbox_queue: 'high_priority' }),
    ]);
    expect(rows[0].payload).toMatchObject({ kind: 'notification-job', type: 'meter_access_request', queue: 'high_priority' });
  });

  it('leaves the link pending and undecided when the requester\'s notification cannot be written', async () => {
    const requester = await someone();
    const pending = await service.link(asCustomer(requester), { kind: 'prepaid', meter: METER }, '198.51.100.3');
    await withoutType('link_approved', () => service.decide(asCustomer(owner), pending.id, 'approve'));
    const { rows } = await sql.query(`SELECT state, is_default, decided_at, decided_by FROM meter_links WHERE id = $1`, [pending.id]);
    expect(rows[0]).toEqual({ state: 'pending', is_default: false, decided_at: null, decided_by: null });
    expect(await service.decide(asCustomer(owner), pending.id, 'approve')).toMatchObject({ state: 'active', isDefault: true });
  });

  it('makes one link of two concurrent requests for the same meter and answers the other 409', async () => {
    const requester = await someone();
    const results = await Promise.allSettled([1, 2].map(() => service.link(asCustomer(requester), { kind: 'prepaid', meter: METER }, '198.51.100.4')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'METER_ALREADY_LINKED' });
    expect((await sql.query(`SELECT 1 FROM meter_links WHERE user_id = $1`, [requester.id])).rowCount).toBe(1);
  });

  it('wakes the SIC registrar after a link becomes active (an owner link, an approval), never for a pending link or a rejection', async () => {
    const before = activations;
    const requester = await someone();
    const pending = await service.link(asCustomer(requester), { kind: 'prepaid', meter: METER }, '198.51.100.5');
    expect(activations).toBe(before);
    await service.decide(asCustomer(owner), pending.id, 'approve');
    expect(activations).toBe(before + 1);
    const other = await someone();
    const refused = await service.link(asCustomer(other), { kind: 'prepaid', meter: METER }, '198.51.100.6');
    await service.decide(asCustomer(owner), refused.id, 'reject');
    expect(activations).toBe(before + 1);
  });

  it("keeps, for a pending link to a meter with several SIC rows, the row of the meter's owner in the app, else the greatest POC", async () => {
    const first = await someone();
    expect(await service.link(asCustomer(first), { kind: 'prepaid', meter: SHARED }, '198.51.100.7')).toMatchObject({ state: 'pending' });
    const police = async (userId: string) => (await sql.query(`SELECT police FROM meter_links WHERE user_id = $1 AND meter = $2`, [userId, SHARED])).rows[0].police;
    // No owner in the app: the same row every time, the greatest POC (10, compared as a number).
    expect(await police(first.id)).toBe('10');
    const formerOwner = await insertCustomer(sql, '+221779409009', 'Ndeye');
    expect(await service.link(asCustomer(formerOwner), { kind: 'prepaid', meter: SHARED }, '198.51.100.8')).toMatchObject({ state: 'active', owner: true });
    expect(await police(formerOwner.id)).toBe('9');
    // Now the meter has an owner in the app: a new request keeps that owner's row, the one its owner is asked about.
    const second = await someone();
    await service.link(asCustomer(second), { kind: 'prepaid', meter: SHARED }, '198.51.100.9');
    expect(await police(second.id)).toBe('9');
  });
});
