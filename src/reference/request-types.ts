// The request_types table: its read, and the admins' create, update and delete (refused while requests use the type).
import type { PoolClient } from 'pg';
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { CreateRequestTypeInput, RequestType, UpdateRequestTypeInput } from '../contracts/reference-messages.js';
import type { Change } from './reference-audit.js';
import { isForeignKeyViolation } from './reference-audit.js';
import { RequestTypeExistsError, RequestTypeInUseError, RequestTypeNotFoundError } from './reference-errors.js';

const COLUMNS = `code, label, needs_meter AS "needsMeter", active, updated_at AS "updatedAt"`;
type RequestTypeRow = Omit<RequestType, 'updatedAt'> & { updatedAt: Date };
const view = (r: RequestTypeRow): RequestType => ({ code: r.code, label: r.label, needsMeter: r.needsMeter, active: r.active, updatedAt: r.updatedAt.toISOString() });

/** Every request type, withdrawn ones included, by code. */
export async function loadRequestTypes(db: Queryable): Promise<RequestType[]> {
  const { rows } = await db.query<RequestTypeRow>(`SELECT ${COLUMNS} FROM request_types ORDER BY code`);
  return rows.map(view);
}

export async function createRequestType(client: PoolClient, input: CreateRequestTypeInput, at: Date): Promise<Change<RequestType>> {
  const { rows } = await client.query<RequestTypeRow>(
    `INSERT INTO request_types (code, label, needs_meter, active, updated_at) VALUES ($1, $2, $3, true, $4) ON CONFLICT (code) DO NOTHING RETURNING ${COLUMNS}`,
    [input.code, input.label, input.needsMeter, at],
  );
  if (!rows[0]) throw new RequestTypeExistsError(input.code);
  const after = view(rows[0]);
  return { action: 'create', before: null, after, result: after };
}

export async function updateRequestType(client: PoolClient, code: string, input: UpdateRequestTypeInput, at: Date): Promise<Change<RequestType>> {
  // NO KEY UPDATE: requests being filed (their foreign key takes KEY SHARE on the type) are not held up.
  const before = await lockedType(client, code, 'NO KEY UPDATE');
  const { rows } = await client.query<RequestTypeRow>(
    `UPDATE request_types SET label = $2, needs_meter = $3, active = $4, updated_at = $5 WHERE code = $1 RETURNING ${COLUMNS}`,
    [code, input.label, input.needsMeter, input.active, at],
  );
  const after = view(rows[0]!);
  return { action: 'update', before, after, result: after };
}

/** Deletes a type no request uses; a used one is withdrawn instead (409 REQUEST_TYPE_IN_USE says so). */
export async function deleteRequestType(client: PoolClient, code: string): Promise<Change<void>> {
  const before = await lockedType(client, code, 'UPDATE');
  const { rows } = await client.query<{ used: boolean }>(`SELECT EXISTS (SELECT 1 FROM requests WHERE type = $1) AS used`, [code]);
  if (rows[0]!.used) throw new RequestTypeInUseError(code);
  try {
    await client.query(`DELETE FROM request_types WHERE code = $1`, [code]);
  } catch (e) {
    throw isForeignKeyViolation(e) ? new RequestTypeInUseError(code) : e;
  }
  return { action: 'delete', before, after: null, result: undefined };
}

async function lockedType(client: PoolClient, code: string, lock: 'UPDATE' | 'NO KEY UPDATE'): Promise<RequestType> {
  const { rows } = await client.query<RequestTypeRow>(`SELECT ${COLUMNS} FROM request_types WHERE code = $1 FOR ${lock}`, [code]);
  if (!rows[0]) throw new RequestTypeNotFoundError(code);
  return view(rows[0]);
}
