// Filing a request (POST /v1/requests): the type, the link or agency checked first; then the file sniffed, measured
// and streamed to storage under an upload row committed before the first byte; then the request, its first history
// row and the upload row's deletion in one transaction. An insert that fails leaves the upload row: the janitor
// deletes the object (request-janitor.ts), so a row never points to a missing object and no object stays orphaned.
import { randomBytes, randomUUID } from 'node:crypto';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { StorageUnavailableError, type ObjectStore } from '../adapters/s3/objects-messages.js';
import type { Caller } from '../contracts/caller.js';
import type { FileRequestFields, RequestAttachmentUpload, RequestDetail } from '../contracts/requests-messages.js';
import { readableLink } from '../meters/index.js';
import { MeasuredBody, sniffAttachment } from './attachment-stream.js';
import type { RequestDeps } from './request-deps.js';
import { RequestAgencyUnknownError, RequestAuthorGoneError, RequestNeedsMeterError, RequestTypeUnknownError } from './request-errors.js';
import { REQUEST_COLUMNS, requestDetail, type RequestRow } from './request-rows.js';

/** Who handles the request and which meter it is about. */
interface Target {
  readonly agency: string;
  readonly link: { readonly id: string; readonly meter: string; readonly kind: 'prepaid' | 'postpaid' } | null;
}

interface StoredAttachment {
  readonly key: string;
  readonly contentType: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** An object key nobody can guess or derive: 192 random bits, nothing of the request, the user or the file name. */
export function newObjectKey(): string {
  return `requests/${randomBytes(24).toString('base64url')}`;
}

export class RequestFiling {
  constructor(private readonly deps: RequestDeps) {}

  async file(caller: Caller, fields: FileRequestFields, attachment: RequestAttachmentUpload | undefined): Promise<RequestDetail> {
    const db = await this.deps.db();
    const target = await this.target(db, caller, fields);
    const stored = attachment ? await this.store(db, attachment) : undefined;
    const at = new Date(this.deps.clock.now());
    let refused = false;
    try {
      return await this.insert(db, caller, fields, target, stored, at, () => (refused = true));
    } catch (e) {
      // Swept: the janitor deleted the object before the upload ended, which then wrote it again, and no row of any
      // kind points to it any more, so it is deleted here or never. The author gone: nothing will ever file it.
      if (refused && stored) {
        const key = stored.key;
        await this.deps.objects().then((store) => this.forget(db, store, key), (error: unknown) => this.deps.onCleanupError?.(error, key));
      }
      throw e;
    }
  }

  private insert(db: PgHandle, caller: Caller, fields: FileRequestFields, target: Target, stored: StoredAttachment | undefined, at: Date, onRefused: () => void): Promise<RequestDetail> {
    return db.transaction(async (c) => {
      // The author's row shared-locked first: an account deletion (which updates it) either waits for this commit and
      // then anonymises this request too, or committed before, and the request is refused.
      const author = await c.query(`SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL FOR SHARE`, [caller.userId]);
      if (!author.rowCount) {
        onRefused();
        throw new RequestAuthorGoneError();
      }
      if (stored) {
        // First, under the row's lock: a janitor holding it (request-janitor.ts) is waited for, and then no row is
        // left. Swept (an upload slower than the sweep age): no request may point to an object the janitor deleted.
        const claimed = await c.query(`DELETE FROM attachment_uploads WHERE object_key = $1`, [stored.key]);
        if (!claimed.rowCount) {
          onRefused();
          throw new StorageUnavailableError('The upload took too long; send the request again.', 1_000);
        }
      }
      // The type is checked again in the insert itself: withdrawn meanwhile, nothing is inserted and the upload row
      // stays for the janitor.
      const { rows } = await c.query<RequestRow>(
        `WITH inserted AS (
           INSERT INTO requests (id, author_id, type, link_id, meter, meter_kind, agency_code, comment,
                                 attachment_key, attachment_type, attachment_bytes, attachment_sha256, created_at, updated_at)
           SELECT $1, $2, t.code, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13 FROM request_types t WHERE t.code = $3 AND t.active
           RETURNING *)
         SELECT ${REQUEST_COLUMNS} FROM inserted r`,
        [
          randomUUID(),
          caller.userId,
          fields.type,
          target.link?.id ?? null,
          target.link?.meter ?? null,
          target.link?.kind ?? null,
          target.agency,
          fields.comment,
          stored?.key ?? null,
          stored?.contentType ?? null,
          stored?.bytes ?? null,
          stored?.sha256 ?? null,
          at,
        ],
      );
      const row = rows[0];
      if (!row) throw new RequestTypeUnknownError(fields.type);
      await c.query(`INSERT INTO request_history (request_id, at, by_user, by_role, from_status, to_status) VALUES ($1, $2, NULL, 'customer', NULL, 'open')`, [row.id, at]);
      return requestDetail(c, row);
    });
  }

  /** The agency and meter: the caller's active readable link (rule 5's 404 otherwise), or an active agency. */
  private async target(db: PgHandle, caller: Caller, fields: FileRequestFields): Promise<Target> {
    const { rows } = await db.query<{ needs_meter: boolean }>(`SELECT needs_meter FROM request_types WHERE code = $1 AND active`, [fields.type]);
    const type = rows[0];
    if (!type) throw new RequestTypeUnknownError(fields.type);
    if (fields.linkId !== undefined) {
      const link = await readableLink(async () => db, caller, fields.linkId);
      // A meter the utility's data gives no agency cannot be routed: the customer names one instead.
      if (link.agency === null) throw new RequestAgencyUnknownError('(none on file for this meter)');
      return { agency: link.agency, link: { id: link.id, meter: link.meter, kind: link.kind } };
    }
    if (type.needs_meter) throw new RequestNeedsMeterError(fields.type);
    const agency = fields.agency ?? '';
    const found = await db.query(`SELECT 1 FROM agencies WHERE code = $1 AND active`, [agency]);
    if (!found.rowCount) throw new RequestAgencyUnknownError(agency);
    return { agency, link: null };
  }

  /**
   * Storage first (503 before anything), then the type from the first bytes (415 before anything is written), then
   * the upload row, committed, then the bytes. Any failure deletes the object and the upload row; when that cleanup
   * fails too, the row stays and the janitor finishes it.
   */
  private async store(db: PgHandle, attachment: RequestAttachmentUpload): Promise<StoredAttachment> {
    const store = await this.deps.objects();
    const sniffed = await sniffAttachment(attachment.stream, this.deps.maxBytes);
    const key = newObjectKey();
    try {
      await db.query(`INSERT INTO attachment_uploads (object_key, started_at) VALUES ($1, $2)`, [key, new Date(this.deps.clock.now())]);
    } catch (e) {
      sniffed.body.destroy();
      throw e;
    }
    const measured = new MeasuredBody(this.deps.maxBytes);
    sniffed.body.on('error', (e) => measured.destroy(e));
    sniffed.body.pipe(measured);
    try {
      await store.put(key, measured, { contentType: sniffed.contentType });
      return { key, contentType: sniffed.contentType, bytes: measured.bytes, sha256: measured.sha256() };
    } catch (e) {
      sniffed.body.destroy();
      measured.destroy();
      await this.forget(db, store, key);
      throw e;
    }
  }

  /** The object (if any part of it was stored), then its upload row; a failure here is left to the janitor. */
  private async forget(db: PgHandle, store: ObjectStore, key: string): Promise<void> {
    try {
      await store.delete(key);
      await db.query(`DELETE FROM attachment_uploads WHERE object_key = $1`, [key]);
    } catch (e) {
      this.deps.onCleanupError?.(e, key);
    }
  }
}
