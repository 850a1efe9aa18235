// Meter links written by plain SQL for the meter-data tests (the links flow is another part of issue 11), over the
// twin rows of source-twin-rows.ts, and a token for each kind of caller rule 5 tells apart.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { insertLink, type LinkRow } from './meter-links.js';
import { insertTwinRows } from './source-twin.js';
import { ACCOUNT, METER, POLICE, seedTwinRows } from './source-twin-rows.js';
import { mintToken } from './tokens.js';

export interface MeterLinkFixture {
  /** Customer A's prepaid meter (agency DAKAR-PLATEAU) and postpaid account (PIKINE), both active. */
  readonly prepaid: string;
  readonly postpaid: string;
  /** Customer B's request for A's prepaid meter, still pending. */
  readonly pending: string;
  /** A's former link to another account, ended. */
  readonly ended: string;
  readonly tokens: Readonly<Record<'a' | 'b' | 'admin' | 'pikine' | 'plateau' | 'thies', string>>;
}

/** Seeds the twin rows, the postpaid account's BI_ODS contract, customers A and B and their links. */
export async function seedMeterLinks(sql: Pick<pg.Pool, 'query'>): Promise<MeterLinkFixture> {
  await seedTwinRows(sql);
  // The postpaid account's contract in BI_ODS (SAP pads it to 12 digits), held by the seeded partner.
  await insertTwinRows(sql, 'bi_ods."FKKVKP"', [{ VKONT: ACCOUNT.padStart(12, '0'), GPART: '0001000001' }]);
  const a = randomUUID();
  const b = randomUUID();
  for (const [id, phone] of [[a, '+221770000101'], [b, '+221770000102']]) {
    await sql.query(`INSERT INTO users (id, phone, role, phone_proved_at, created_at) VALUES ($1, $2, 'customer', now(), now())`, [id, phone]);
  }
  const link = (userId: string, kind: LinkRow['kind'], meter: string, police: string | null, agency: string, owner: boolean, state: LinkRow['state']) =>
    insertLink(sql, { userId, kind, meter, police, agency, owner, state });
  return {
    prepaid: await link(a, 'prepaid', METER, POLICE, 'DAKAR-PLATEAU', true, 'active'),
    postpaid: await link(a, 'postpaid', ACCOUNT, null, 'PIKINE', true, 'active'),
    pending: await link(b, 'prepaid', METER, POLICE, 'DAKAR-PLATEAU', false, 'pending'),
    ended: await link(a, 'postpaid', '300099999', null, 'PIKINE', true, 'ended'),
    tokens: {
      a: await mintToken({ role: 'customer', sub: a }),
      b: await mintToken({ role: 'customer', sub: b }),
      admin: await mintToken({ role: 'admin' }),
      pikine: await mintToken({ role: 'agent', agency: 'PIKINE' }),
      plateau: await mintToken({ role: 'agent', agency: 'DAKAR-PLATEAU' }),
      thies: await mintToken({ role: 'agent', agency: 'THIES' }),
    },
  };
}
