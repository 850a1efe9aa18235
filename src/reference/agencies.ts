// The agencies table: its read, and the admins' create, update and delete (refused while anything names the agency).
import type { PoolClient } from 'pg';
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { Agency, CreateAgencyInput, UpdateAgencyInput } from '../contracts/reference-messages.js';
import type { Change } from './reference-audit.js';
import { isForeignKeyViolation } from './reference-audit.js';
import { AgencyExistsError, AgencyInUseError, AgencyNotFoundError } from './reference-errors.js';

const COLUMNS = `code, name, active, updated_at AS "updatedAt"`;
type AgencyRow = Omit<Agency, 'updatedAt'> & { updatedAt: Date };
const view = (r: AgencyRow): Agency => ({ code: r.code, name: r.name, active: r.active, updatedAt: r.updatedAt.toISOString() });

/** Every agency, withdrawn ones included, by code. */
export async function loadAgencies(db: Queryable): Promise<Agency[]> {
  const { rows } = await db.query<AgencyRow>(`SELECT ${COLUMNS} FROM agencies ORDER BY code`);
  return rows.map(view);
}

export async function createAgency(client: PoolClient, input: CreateAgencyInput, at: Date): Promise<Change<Agency>> {
  const { rows } = await client.query<AgencyRow>(
    `INSERT INTO agencies (code, name, active, updated_at) VALUES ($1, $2, true, $3) ON CONFLICT (code) DO NOTHING RETURNING ${COLUMNS}`,
    [input.code, input.name, at],
  );
  if (!rows[0]) throw new AgencyExistsError(input.code);
  const after = view(rows[0]);
  return { action: 'create', before: null, after, result: after };
}

/**
 * Renames, withdraws or restores an agency. NO KEY UPDATE: users and jobs naming the agency (foreign keys) are not
 * held up by it.
 */
export async function updateAgency(client: PoolClient, code: string, input: UpdateAgencyInput, at: Date): Promise<Change<Agency>> {
  const before = await lockedAgency(client, code, 'NO KEY UPDATE');
  const { rows } = await client.query<AgencyRow>(`UPDATE agencies SET name = $2, active = $3, updated_at = $4 WHERE code = $1 RETURNING ${COLUMNS}`, [
    code,
    input.name,
    input.active,
    at,
  ]);
  const after = view(rows[0]!);
  return { action: 'update', before, after, result: after };
}

/** Deletes an agency nothing names; a named one is withdrawn instead (409 AGENCY_IN_USE says so). */
export async function deleteAgency(client: PoolClient, code: string): Promise<Change<void>> {
  // FOR UPDATE: a user or job naming the agency waits for this transaction, then fails its foreign key.
  const before = await lockedAgency(client, code, 'UPDATE');
  const { rows } = await client.query<{ used: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM users WHERE agency_code = $1)
         OR EXISTS (SELECT 1 FROM meter_links WHERE agency_code = $1)
         OR EXISTS (SELECT 1 FROM requests WHERE agency_code = $1)
         OR EXISTS (SELECT 1 FROM notification_jobs WHERE caller_agency = $1) AS used`,
    [code],
  );
  if (rows[0]!.used) throw new AgencyInUseError(code);
  try {
    await client.query(`DELETE FROM agencies WHERE code = $1`, [code]);
  } catch (e) {
    throw isForeignKeyViolation(e) ? new AgencyInUseError(code) : e;
  }
  return { action: 'delete', before, after: null, result: undefined };
}

async function lockedAgency(client: PoolClient, code: string, lock: 'UPDATE' | 'NO KEY UPDATE'): Promise<Agency> {
  const { rows } = await client.query<AgencyRow>(`SELECT ${COLUMNS} FROM agencies WHERE code = $1 FOR ${lock}`, [code]);
  if (!rows[0]) throw new AgencyNotFoundError(code);
  return view(rows[0]);
}
