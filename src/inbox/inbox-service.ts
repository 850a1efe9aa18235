// The customer's inbox: targeted notifications (one inbox_entries row per user) merged at read time with the
// broadcasts the user is in scope of (one broadcasts row per job, per-user state in broadcast_reads only once
// the user read or deleted it). Newest first by (created_at, id), paged with an opaque cursor.
// The write side (addEntries, addBroadcast) is what the fan-out calls inside its own transaction.
import type { Clock } from '../clock.js';
import type { Caller } from '../contracts/caller.js';
import type { PgHandle, Queryable } from '../adapters/postgres/postgres-messages.js';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, type InboxCursor } from '../domain/inbox-cursor.js';
import type { BroadcastScope } from '../domain/notification-request.js';
import type { InboxListOptions, InboxPage } from '../contracts/inbox-messages.js';
import { InboxItemNotFoundError } from './inbox-errors.js';

export interface InboxDeps {
  db(): Promise<PgHandle>;
  readonly clock: Clock;
}


const ITEM_ID = /^[1-9][0-9]{0,18}$/;
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * The broadcasts user `u` (a users row) may see, as a condition on `b` (a broadcasts row): sent after the account
 * was created, and in scope (see 0004_inbox.sql). A customer is in an agency by their account's agency_code or through
 * an active meter link of that agency (0015_meter_links.sql) active when the broadcast was sent — the fan-out's rule
 * (src/dispatch/fan-out-audience.ts); the link probes use meter_links_agency_active and meter_links_user.
 */
/**
 * When a meter link `l` starts to count for an agency's broadcasts: once it is active, so from `decided_at` for a link
 * someone approved and `created_at` for an owner's link (active at once). One rule for the inbox and the fan-out.
 */
export const linkCountsBy = (at: string): string => `COALESCE(l.decided_at, l.created_at) <= ${at}`;

const LINK_IN = (agency: string) =>
  `EXISTS (SELECT 1 FROM meter_links l WHERE l.user_id = u.id AND l.state = 'active' AND ${agency} AND ${linkCountsBy('b.created_at')})`;
const BROADCAST_VISIBLE = `b.created_at >= u.created_at
  AND (b.scope = 'everyone'
       OR (b.scope = 'all_agencies' AND (u.agency_code IS NOT NULL OR ${LINK_IN('l.agency_code IS NOT NULL')}))
       OR (b.scope = 'agency' AND (b.agency_code = u.agency_code OR ${LINK_IN('l.agency_code = b.agency_code')})))`;

/** The cursor's position ($2 microseconds, $3 id) as a row bound; without a cursor, after everything. */
const AFTER = `COALESCE('epoch'::timestamptz + $2::bigint * interval '1 microsecond', 'infinity'::timestamptz), COALESCE($3::bigint, 9223372036854775807)`;

interface ItemRow {
  id: string;
  job_id: string;
  created_at: Date;
  at_micros: string;
  read: boolean;
  type: string;
  title: string;
  body: string;
  data: Record<string, string>;
}

export class InboxService {
  constructor(private readonly deps: InboxDeps) {}

  /**
   * One page of the caller's inbox, newest first; `nextCursor` continues after the page's last item. The cursor and
   * limit were checked at the edge (inboxListQuery): a cursor this API issued, a limit from 1 to MAX_PAGE_SIZE.
   */
  async list(caller: Caller, options: InboxListOptions = {}): Promise<InboxPage> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    const cursor: InboxCursor | undefined = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const unread = options.unread === true;
    const db = await this.deps.db();
    // Each branch is a keyset scan of at most limit + 1 rows (its own index); the merge keeps the first limit + 1.
    // The extra row only says whether another page exists.
    const { rows } = await db.query<ItemRow>(
      `WITH u AS (SELECT id, created_at, agency_code FROM users WHERE id = $1 AND deleted_at IS NULL),
            merged AS (
              (SELECT e.id, e.job_id, e.created_at, e.read_at IS NOT NULL AS read
                 FROM inbox_entries e
                WHERE e.user_id = $1 AND e.deleted_at IS NULL
                  AND (NOT $4::boolean OR e.read_at IS NULL)
                  AND (e.created_at, e.id) < (${AFTER})
                ORDER BY e.created_at DESC, e.id DESC
                LIMIT $5)
              UNION ALL
              (SELECT b.id, b.job_id, b.created_at, r.read_at IS NOT NULL AS read
                 FROM broadcasts b
                 JOIN u ON ${BROADCAST_VISIBLE}
                 LEFT JOIN broadcast_reads r ON r.user_id = $1 AND r.job_id = b.job_id
                WHERE r.deleted_at IS NULL
                  AND (NOT $4::boolean OR r.read_at IS NULL)
                  AND (b.created_at, b.id) < (${AFTER})
                ORDER BY b.created_at DESC, b.id DESC
                LIMIT $5))
       SELECT m.id::text AS id, m.job_id, m.created_at, (extract(epoch FROM m.created_at) * 1000000)::bigint::text AS at_micros, m.read,
              j.type, j.title, j.body, j.data
         FROM merged m JOIN notification_jobs j ON j.id = m.job_id
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT $5`,
      [caller.userId, cursor?.atMicros ?? null, cursor?.id ?? null, unread, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        jobId: r.job_id,
        type: r.type,
        title: r.title,
        body: r.body,
        data: r.data,
        createdAt: r.created_at.toISOString(),
        read: r.read,
      })),
      nextCursor: rows.length > limit && last ? encodeCursor({ atMicros: last.at_micros, id: last.id }) : null,
    };
  }

  /** Marks one of the caller's items read (again is fine); 404 for an item that is not theirs or was deleted. */
  async markRead(caller: Caller, id: string): Promise<void> {
    const itemId = parseItemId(id);
    const now = new Date(this.deps.clock.now());
    const db = await this.deps.db();
    const entry = await db.query(
      `UPDATE inbox_entries SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL`,
      [itemId, caller.userId, now],
    );
    if (entry.rowCount) return;
    const broadcast = await db.query(
      `INSERT INTO broadcast_reads (user_id, job_id, read_at)
       SELECT u.id, b.job_id, $3 FROM broadcasts b JOIN users u ON u.id = $2 AND u.deleted_at IS NULL AND ${BROADCAST_VISIBLE}
        WHERE b.id = $1
       ON CONFLICT (user_id, job_id) DO UPDATE SET read_at = COALESCE(broadcast_reads.read_at, EXCLUDED.read_at)
        WHERE broadcast_reads.deleted_at IS NULL`,
      [itemId, caller.userId, now],
    );
    if (!broadcast.rowCount) throw new InboxItemNotFoundError();
  }

  /** Marks every live item of the caller read: entries in place, broadcasts by a broadcast_reads row each. */
  async markAllRead(caller: Caller): Promise<{ marked: number }> {
    const now = new Date(this.deps.clock.now());
    const db = await this.deps.db();
    return db.transaction(async (client) => {
      const entries = await client.query(
        `UPDATE inbox_entries SET read_at = $2 WHERE user_id = $1 AND deleted_at IS NULL AND read_at IS NULL`,
        [caller.userId, now],
      );
      const broadcasts = await client.query(
        `INSERT INTO broadcast_reads (user_id, job_id, read_at)
         SELECT u.id, b.job_id, $2 FROM broadcasts b JOIN users u ON u.id = $1 AND u.deleted_at IS NULL AND ${BROADCAST_VISIBLE}
         ON CONFLICT (user_id, job_id) DO UPDATE SET read_at = EXCLUDED.read_at
          WHERE broadcast_reads.read_at IS NULL AND broadcast_reads.deleted_at IS NULL`,
        [caller.userId, now],
      );
      return { marked: (entries.rowCount ?? 0) + (broadcasts.rowCount ?? 0) };
    });
  }

  /** Deletes one of the caller's items (it leaves the list); 404 for one that is not theirs or already deleted. */
  async delete(caller: Caller, id: string): Promise<void> {
    const itemId = parseItemId(id);
    const now = new Date(this.deps.clock.now());
    const db = await this.deps.db();
    const entry = await db.query(`UPDATE inbox_entries SET deleted_at = $3 WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL`, [
      itemId,
      caller.userId,
      now,
    ]);
    if (entry.rowCount) return;
    const broadcast = await db.query(
      `INSERT INTO broadcast_reads (user_id, job_id, deleted_at)
       SELECT u.id, b.job_id, $3 FROM broadcasts b JOIN users u ON u.id = $2 AND u.deleted_at IS NULL AND ${BROADCAST_VISIBLE}
        WHERE b.id = $1
       ON CONFLICT (user_id, job_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at
        WHERE broadcast_reads.deleted_at IS NULL`,
      [itemId, caller.userId, now],
    );
    if (!broadcast.rowCount) throw new InboxItemNotFoundError();
  }

  /**
   * Write side, for the fan-out (inside its transaction): one entry per user for the job, dated by the job.
   * Idempotent — a resumed fan-out writes the same users again and nothing changes. Returns how many were new.
   */
  async addEntries(client: Queryable, jobId: string, userIds: readonly string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const { rowCount } = await client.query(
      `INSERT INTO inbox_entries (user_id, job_id, created_at)
       SELECT t.user_id, j.id, j.created_at FROM notification_jobs j, unnest($2::uuid[]) AS t(user_id)
        WHERE j.id = $1
        ORDER BY t.user_id
       ON CONFLICT (user_id, job_id) DO NOTHING`,
      [jobId, [...new Set(userIds)]],
    );
    return rowCount ?? 0;
  }

  /** Write side, for the fan-out: the job's one broadcast row (idempotent). True when it was new. */
  async addBroadcast(client: Queryable, jobId: string, scope: BroadcastScope): Promise<boolean> {
    const { rowCount } = await client.query(
      `INSERT INTO broadcasts (job_id, scope, agency_code, created_at)
       SELECT j.id, $2, $3, j.created_at FROM notification_jobs j WHERE j.id = $1
       ON CONFLICT (job_id) DO NOTHING`,
      [jobId, scope.kind, scope.kind === 'agency' ? scope.agency : null],
    );
    return (rowCount ?? 0) > 0;
  }
}

/** An item id as the API shows it; anything else cannot be the caller's item: 404, like an unknown one. */
function parseItemId(id: string): string {
  if (!ITEM_ID.test(id) || BigInt(id) > MAX_BIGINT) throw new InboxItemNotFoundError();
  return id;
}
