// A requests row (0019_requests.sql) as the service reads it, who may read it, and how the API shows it.
import type { Caller } from '../contracts/caller.js';
import type { RequestDetail, RequestStatus, RequestView } from '../contracts/requests-messages.js';
import type { Queryable } from '../meters/index.js';

export interface RequestRow {
  id: string;
  author_id: string | null;
  type: string;
  link_id: string | null;
  meter: string | null;
  meter_kind: 'prepaid' | 'postpaid' | null;
  agency_code: string;
  comment: string;
  status: RequestStatus;
  reply: string | null;
  attachment_key: string | null;
  attachment_type: string | null;
  attachment_bytes: string | null;
  attachment_sha256: string | null;
  attachment_deleted_at: Date | null;
  created_at: Date;
  updated_at: Date;
  anonymised_at: Date | null;
  /** created_at in microseconds since the epoch (the cursor's unit). */
  at_micros: string;
}

/** The columns RequestRow reads, for `SELECT ${REQUEST_COLUMNS} FROM requests r …`. */
export const REQUEST_COLUMNS = `r.id, r.author_id, r.type, r.link_id, r.meter, r.meter_kind, r.agency_code, r.comment, r.status, r.reply,
  r.attachment_key, r.attachment_type, r.attachment_bytes::text AS attachment_bytes, r.attachment_sha256, r.attachment_deleted_at,
  r.created_at, r.updated_at, r.anonymised_at, (extract(epoch FROM r.created_at) * 1000000)::bigint::text AS at_micros`;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether the caller may read the request: its author, an agent of its agency, an admin. */
export function mayReadRequest(caller: Caller, row: Pick<RequestRow, 'author_id' | 'agency_code'>): boolean {
  switch (caller.role) {
    case 'admin':
      return true;
    case 'agent':
      return caller.agency !== null && row.agency_code === caller.agency;
    case 'customer':
      return row.author_id !== null && row.author_id === caller.userId;
  }
}

/** The row by id, whoever may read it (callers check); `lock` takes it FOR UPDATE on a transaction's client. */
export async function requestById(client: Queryable, id: string, lock = false): Promise<RequestRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await client.query<RequestRow>(`SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

/** Whether the row still points to a stored object. */
export function hasAttachment(row: RequestRow): row is RequestRow & { attachment_key: string; attachment_type: string; attachment_bytes: string; attachment_sha256: string } {
  return row.attachment_key !== null && row.attachment_deleted_at === null;
}

export function requestView(row: RequestRow): RequestView {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    agency: row.agency_code,
    linkId: row.link_id,
    meter: row.meter,
    meterKind: row.meter_kind,
    comment: row.comment,
    reply: row.reply,
    attachment: hasAttachment(row) ? { contentType: row.attachment_type, bytes: Number(row.attachment_bytes), sha256: row.attachment_sha256 } : null,
    anonymised: row.anonymised_at !== null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

interface HistoryRow {
  at: Date;
  by_user: string | null;
  by_role: 'customer' | 'agent' | 'admin';
  from_status: RequestStatus | null;
  to_status: RequestStatus;
  reply: string | null;
}

/** The request with its history, oldest change first. */
export async function requestDetail(client: Queryable, row: RequestRow): Promise<RequestDetail> {
  const { rows } = await client.query<HistoryRow>(
    `SELECT at, by_user, by_role, from_status, to_status, reply FROM request_history WHERE request_id = $1 ORDER BY at, id`,
    [row.id],
  );
  return {
    ...requestView(row),
    history: rows.map((h) => ({
      at: h.at.toISOString(),
      byRole: h.by_role,
      byUser: h.by_role === 'customer' ? null : h.by_user,
      fromStatus: h.from_status,
      toStatus: h.to_status,
      reply: h.reply,
    })),
  };
}
