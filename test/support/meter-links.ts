// Meter-link tests' people and meters: customers, agents and admins inserted straight into users (with a PIN hash,
// a proved phone) and signed in by minted tokens; prepaid and postpaid meters in the SIC twin tables.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '../../src/adapters/postgres/postgres-messages.js';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { mintToken } from './tokens.js';
import { insertTwinRows } from './source-twin.js';

export interface TestUser {
  readonly id: string;
  readonly token: string;
  readonly phone: string | null;
}

const hasher = bcryptPinHasher(4);
export const TEST_PIN = '4821';

/** A registered customer with a proved phone (E.164) and the PIN TEST_PIN. */
export async function insertCustomer(sql: Pick<pg.Pool, 'query'>, phone: string, firstName = 'Awa'): Promise<TestUser> {
  const id = randomUUID();
  await sql.query(
    `INSERT INTO users (id, phone, first_name, last_name, pin_hash, role, phone_proved_at, created_at) VALUES ($1, $2, $3, 'Test', $4, 'customer', now(), now())`,
    [id, phone, firstName, await hasher.hash(TEST_PIN)],
  );
  return { id, phone, token: await mintToken({ role: 'customer', sub: id }) };
}

/** An agent of `agency` (or an admin, agency null), as the directory would have created them at sign-in. */
export async function insertStaff(sql: Pick<pg.Pool, 'query'>, role: 'agent' | 'admin', agency: string | null): Promise<TestUser> {
  const id = randomUUID();
  await sql.query(`INSERT INTO users (id, ldap_login, role, created_at) VALUES ($1, $2, $3, now())`, [id, `${role}-${id}`, role]);
  return { id, phone: null, token: await mintToken({ role, sub: id, agency }) };
}

/** A prepaid customer row in SIC: meter number, POC, phone on file (any notation), agency, and a name and address. */
export function prepaidRow(meter: string, tel: string | null, agence: string) {
  return { 'N° COMPTEUR': meter, POC: `P${meter.slice(-6)}`, tel, 'N° CLIENT': `CL-${meter}`, ADRESSE: 'Rue 10 x 12, Medina', usage: 'DOMESTIQUE', CLIENT: 'SECRET NAME', agence };
}

export function postpaidRow(account: string, phone: string | null, agence: string) {
  return { 'COMPTE CONTRAT': account, 'N PARTENAIRE': '0009000001', TELEPHONE: phone, ADRESSE: 'Rue 10 x 12, Medina', TARIF: 'DPP', CLIENT: 'SECRET NAME', AGENCE: agence };
}

export async function insertMeters(sql: Pick<pg.Pool, 'query'>, meters: { prepaid?: Record<string, unknown>[]; postpaid?: Record<string, unknown>[] }): Promise<void> {
  if (meters.prepaid?.length) await insertTwinRows(sql, 'sic."HEXING_INFOS_ADMINISTRATIVES_NEW"', meters.prepaid);
  if (meters.postpaid?.length) await insertTwinRows(sql, 'sic."compteurs_postpaid"', meters.postpaid);
}

export interface LinkRow {
  readonly userId: string;
  readonly kind: 'prepaid' | 'postpaid';
  readonly meter: string;
  /** The prepaid meter's POC; null for postpaid. */
  readonly police?: string | null;
  readonly agency: string | null;
  /** @defaultValue true */
  readonly owner?: boolean;
  /** @defaultValue 'active' */
  readonly state?: 'pending' | 'active' | 'rejected' | 'ended';
  /** @defaultValue false */
  readonly isDefault?: boolean;
  /** @defaultValue a new UUID */
  readonly id?: string;
}

/** A meter_links row written straight, as the links flow would have left it; resolves with its id. */
export async function insertLink(sql: Queryable, link: LinkRow): Promise<string> {
  const id = link.id ?? randomUUID();
  await sql.query(
    `INSERT INTO meter_links (id, user_id, kind, meter, police, agency_code, owner, state, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())`,
    [id, link.userId, link.kind, link.meter, link.police ?? null, link.agency, link.owner ?? true, link.state ?? 'active', link.isDefault ?? false],
  );
  return id;
}
