// The janitor's pass: objects no request points to (an upload row older than the sweep age: the insert failed, or
// the process died mid-upload) and the attachments of anonymised requests past their retention are deleted from
// storage, then their rows are updated. Storage or PostgreSQL failing stops the pass; the next one resumes.
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { RequestDeps } from './request-deps.js';

export interface JanitorPolicy {
  /** An upload row older than this is an orphan. */
  readonly uploadAgeMs: number;
  /** An anonymised request's attachment is kept this long. */
  readonly retentionMs: number;
  /** Rows handled per kind and pass, so one pass stays short. */
  readonly batch?: number;
}

export interface JanitorResult {
  /** Orphaned objects deleted (with their upload rows). */
  readonly orphans: number;
  /** Attachments deleted after the retention. */
  readonly expired: number;
}

export async function sweepAttachments(deps: Pick<RequestDeps, 'db' | 'objects' | 'clock'>, policy: JanitorPolicy): Promise<JanitorResult> {
  const db = await deps.db();
  const now = deps.clock.now();
  const batch = policy.batch ?? 100;
  const orphans = await db.transaction(async (c) => {
    // Claimed under a row lock held until the objects are gone: a filing transaction deletes its upload row first, so
    // it either holds the row (skipped here) or waits for this commit and then finds no row (and refuses the request).
    const { rows } = await c.query<{ object_key: string }>(
      `SELECT u.object_key FROM attachment_uploads u
        WHERE u.started_at < $1 AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.attachment_key = u.object_key)
        ORDER BY u.started_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [new Date(now - policy.uploadAgeMs), batch],
    );
    if (rows.length === 0) return 0;
    // Storage is asked for only when there is work: an idle janitor never makes storage's outage its own.
    const store = await deps.objects();
    for (const { object_key: key } of rows) {
      // The object first: a row deleted before its object would leave the object with nothing pointing to it.
      await store.delete(key);
      await c.query(`DELETE FROM attachment_uploads WHERE object_key = $1`, [key]);
    }
    return rows.length;
  });
  const expired = await db.query<{ id: string; attachment_key: string }>(
    `SELECT id, attachment_key FROM requests
      WHERE attachment_key IS NOT NULL AND attachment_deleted_at IS NULL AND anonymised_at IS NOT NULL AND anonymised_at < $1
      ORDER BY anonymised_at LIMIT $2`,
    [new Date(now - policy.retentionMs), batch],
  );
  if (expired.rows.length === 0) return { orphans, expired: 0 };
  const store = await deps.objects();
  for (const { id, attachment_key: key } of expired.rows) {
    await store.delete(key);
    await db.query(`UPDATE requests SET attachment_deleted_at = $2 WHERE id = $1`, [id, new Date(deps.clock.now())]);
  }
  return { orphans, expired: expired.rows.length };
}

/**
 * In the account deletion's transaction: the user's requests stay for the agency, without their author and their
 * text (the comment is the customer's own words); the janitor deletes their attachments after the retention.
 */
export async function anonymiseUserRequests(client: Queryable, userId: string, at: Date): Promise<number> {
  const { rowCount } = await client.query(`UPDATE requests SET author_id = NULL, anonymised_at = $2, comment = '' WHERE author_id = $1`, [userId, at]);
  return rowCount ?? 0;
}
