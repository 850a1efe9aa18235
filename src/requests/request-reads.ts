// Reading requests: the list (the author's own, an agency's, all for admins; by status; cursor pages on
// (created_at, id)), one request with its history, and a short-lived download link to its attachment.
import type { Caller } from '../contracts/caller.js';
import type { AttachmentLink, RequestDetail, RequestListQuery, RequestPage } from '../contracts/requests-messages.js';
import { decodeRequestCursor, encodeRequestCursor } from '../domain/request-cursor.js';
import type { RequestDeps } from './request-deps.js';
import { RequestAttachmentNotFoundError, RequestNotFoundError } from './request-errors.js';
import { REQUEST_COLUMNS, hasAttachment, mayReadRequest, requestById, requestDetail, requestView, type RequestRow } from './request-rows.js';

/** The cursor's position ($2 microseconds, $3 id) as a row bound; without a cursor, after everything. */
const AFTER = `(r.created_at, r.id) < (COALESCE('epoch'::timestamptz + $2::bigint * interval '1 microsecond', 'infinity'::timestamptz), COALESCE($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))`;

export class RequestReads {
  constructor(private readonly deps: RequestDeps) {}

  /** Newest first. A customer sees their own, an agent their agency's (none without an agency), an admin all. */
  async list(caller: Caller, query: RequestListQuery): Promise<RequestPage> {
    const cursor = query.cursor === undefined ? undefined : decodeRequestCursor(query.cursor);
    const values: unknown[] = [query.limit + 1, cursor?.atMicros ?? null, cursor?.id ?? null];
    // Conditions only for what is asked, so each list meets an index of 0019 (requests_author,
    // requests_agency_status, requests_status) rather than an `$n IS NULL OR …` the planner cannot use.
    const where = [AFTER];
    const bind = (condition: (n: string) => string, value: unknown) => {
      values.push(value);
      where.push(condition(`$${values.length}`));
    };
    if (caller.role === 'customer') bind((n) => `r.author_id = ${n}`, caller.userId);
    // An agent without an agency sees nothing: `agency_code = NULL` matches no row.
    else if (caller.role === 'agent') bind((n) => `r.agency_code = ${n}`, caller.agency);
    if (query.status !== undefined) bind((n) => `r.status = ${n}`, query.status);
    const db = await this.deps.db();
    const { rows } = await db.query<RequestRow>(
      `SELECT ${REQUEST_COLUMNS} FROM requests r WHERE ${where.join(' AND ')} ORDER BY r.created_at DESC, r.id DESC LIMIT $1`,
      values,
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(requestView),
      nextCursor: rows.length > query.limit && last ? encodeRequestCursor({ atMicros: last.at_micros, id: last.id }) : null,
    };
  }

  /** The request and its history; anyone who may not read it gets the 404 of an unknown id. */
  async get(caller: Caller, id: string): Promise<RequestDetail> {
    const db = await this.deps.db();
    const row = await this.readable(caller, id);
    return requestDetail(db, row);
  }

  /** A presigned GET on the storage's public address, valid REQUEST_ATTACHMENT_URL_TTL_S, forcing a download. */
  async attachment(caller: Caller, id: string): Promise<AttachmentLink> {
    const row = await this.readable(caller, id);
    if (!hasAttachment(row)) throw new RequestAttachmentNotFoundError();
    const store = await this.deps.objects();
    const expiresAt = new Date(this.deps.clock.now() + this.deps.urlTtlS * 1_000);
    const url = await store.presignDownload(row.attachment_key, { expiresInS: this.deps.urlTtlS, filename: downloadName(row) });
    return { url, expiresAt: expiresAt.toISOString() };
  }

  private async readable(caller: Caller, id: string): Promise<RequestRow> {
    const row = await requestById(await this.deps.db(), id);
    if (!row || !mayReadRequest(caller, row)) throw new RequestNotFoundError();
    return row;
  }
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'image/heif': 'heic',
  'application/pdf': 'pdf',
};

/** The download's name: from the request and the sniffed type, never the client's file name (it may say anything). */
function downloadName(row: RequestRow & { attachment_type: string }): string {
  return `request-${row.id.slice(0, 8)}.${EXTENSIONS[row.attachment_type] ?? 'bin'}`;
}
