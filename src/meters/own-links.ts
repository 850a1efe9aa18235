// A customer's own links: the list (default first, then the newest), ending one, choosing the default, and ending
// them all with the account. The default moves to the newest active link when the default one ends.
import type { Caller } from '../contracts/caller.js';
import type { MeterLink, MeterLinkList } from '../contracts/meters-messages.js';
import { LINK_COLUMNS, UUID, linkRecord, linkView, type MeterLinkRow, type Queryable } from './meter-access.js';
import { lockUser, type MeterLinkDeps } from './meter-link-deps.js';
import { MeterLinkNotFoundError } from './meter-link-errors.js';

/** The user's live link `linkId` (pending or active; `active` only when asked), locked; else the usual 404. */
async function ownLiveLink(client: Queryable, userId: string, linkId: string, activeOnly: boolean): Promise<MeterLinkRow> {
  if (!UUID.test(linkId)) throw new MeterLinkNotFoundError();
  const states = activeOnly ? `('active')` : `('pending', 'active')`;
  const { rows } = await client.query<MeterLinkRow>(
    `SELECT ${LINK_COLUMNS} FROM meter_links WHERE id = $1 AND user_id = $2 AND state IN ${states} FOR UPDATE`,
    [linkId, userId],
  );
  if (!rows[0]) throw new MeterLinkNotFoundError();
  return rows[0];
}

/**
 * Ends every live link of the user (account deletion), on the caller's transaction. No default is kept: the user
 * has no link left. Returns the ids of those that were active, for the caller to announce once it has committed
 * (the link cache's `ended`): a pending link was never readable, so no instance holds it.
 */
export async function endUserLinks(client: Queryable, userId: string, at: Date): Promise<string[]> {
  const { rows } = await client.query<{ id: string; was_active: boolean }>(
    `UPDATE meter_links l SET state = 'ended', ended_at = $2, is_default = false
       FROM meter_links old WHERE old.id = l.id AND l.user_id = $1 AND l.state IN ('pending', 'active')
       RETURNING l.id, old.state = 'active' AS was_active`,
    [userId, at],
  );
  return rows.filter((r) => r.was_active).map((r) => r.id);
}

export class OwnLinks {
  constructor(private readonly deps: MeterLinkDeps) {}

  async list(caller: Caller): Promise<MeterLinkList> {
    const db = await this.deps.db();
    const { rows } = await db.query<MeterLinkRow>(
      `SELECT ${LINK_COLUMNS} FROM meter_links WHERE user_id = $1 AND state IN ('pending', 'active')
        ORDER BY is_default DESC, created_at DESC, id DESC`,
      [caller.userId],
    );
    return { items: rows.map((r) => linkView(linkRecord(r))) };
  }

  /** Ends the caller's pending or active link; when it was the default, the newest active link left becomes it. */
  async unlink(caller: Caller, linkId: string): Promise<void> {
    const db = await this.deps.db();
    const ended = await db.transaction(async (client) => {
      await lockUser(client, caller.userId);
      const link = await ownLiveLink(client, caller.userId, linkId, false);
      await client.query(`UPDATE meter_links SET state = 'ended', ended_at = $2, is_default = false WHERE id = $1`, [link.id, new Date(this.deps.clock.now())]);
      if (link.is_default) {
        await client.query(
          `UPDATE meter_links SET is_default = true
            WHERE id = (SELECT id FROM meter_links WHERE user_id = $1 AND state = 'active' ORDER BY created_at DESC, id DESC LIMIT 1)`,
          [caller.userId],
        );
      }
      return link;
    });
    // After the commit: an instance that forgot the link earlier could load it again, still active, and keep it.
    if (ended.state === 'active') this.deps.linksEnded?.([ended.id]);
  }

  /** Makes the caller's active link the default; a link that is not theirs or not active is the usual 404. */
  async setDefault(caller: Caller, linkId: string): Promise<MeterLink> {
    const db = await this.deps.db();
    return db.transaction(async (client) => {
      await lockUser(client, caller.userId);
      const link = await ownLiveLink(client, caller.userId, linkId, true);
      // The old default is cleared first: the unique index allows one default per user at every statement.
      await client.query(`UPDATE meter_links SET is_default = false WHERE user_id = $1 AND is_default AND id <> $2`, [caller.userId, link.id]);
      const { rows } = await client.query<MeterLinkRow>(`UPDATE meter_links SET is_default = true WHERE id = $1 RETURNING ${LINK_COLUMNS}`, [link.id]);
      return linkView(linkRecord(rows[0]!));
    });
  }
}
