// Deciding a meter link (src/meters/meter-link-decisions.ts) over a recording database: a customer is refused an
// unknown id and someone else's link with the same 404 after the same queries, so the time of the answer tells
// nothing about which ids are links.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import type { Caller } from '../../../src/contracts/caller.js';
import { MeterLinkService, type MeterLinkRow } from '../../../src/meters/index.js';

const STRANGER: Caller = { userId: '00000000-0000-4000-8000-0000000000c1', role: 'customer', agency: null };
const LINK = '11111111-1111-4111-8111-111111111111';
const UNKNOWN = '22222222-2222-4222-8222-222222222222';

const row: MeterLinkRow = {
  id: LINK, user_id: '00000000-0000-4000-8000-0000000000a1', kind: 'prepaid', meter: '14212345678', police: 'P1', agency_code: 'PIKINE',
  owner: false, state: 'pending', is_default: false, created_at: new Date('2026-01-01T00:00:00Z'), decided_at: null,
};

function service() {
  const queries: string[] = [];
  const client = {
    query: async (text: string, values?: unknown[]) => {
      queries.push(text.replace(/\s+/g, ' ').slice(0, 40));
      const rows = /FROM meter_links WHERE id = \$1/.test(text) && values?.[0] === LINK ? [row] : [];
      return { rows, rowCount: rows.length };
    },
  };
  const handle = { query: client.query, transaction: <T>(fn: (c: never) => Promise<T>) => fn(client as never) };
  const s = new MeterLinkService({ db: async () => handle as never, reader: { read: async () => ({ rows: [], stale: false, ageMs: 0 }) } as never, limit: async () => undefined, clock: new ManualClock() });
  return { s, queries };
}

describe('meter link decisions', () => {
  it('refuses a customer an unknown id and a link they may not decide with the same 404 after the same queries', async () => {
    const unknown = service();
    await expect(unknown.s.decide(STRANGER, UNKNOWN, 'approve')).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    const theirs = service();
    await expect(theirs.s.decide(STRANGER, LINK, 'approve')).rejects.toMatchObject({ code: 'METER_LINK_NOT_FOUND' });
    expect(unknown.queries).toEqual(theirs.queries);
    expect(unknown.queries).toHaveLength(2);
  });
});
