// A customer's own links: the list (default first, then the newest), ending one, choosing the default, and ending
// them all with the account. The default moves to the newest active link when the default one ends.
import type { Caller } from '../contracts/caller.js';
import type { MeterLink, MeterLinkList } from '../contracts/meters-messages.js';
import { LINK_COLUMNS, linkRecord, linkView, type MeterLinkRow, type Queryable } from './meter-access.js';
import { UUID, lockUser, type MeterLinkDeps } from './meter-link-deps.js';
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
 * has no link left.
 */
export async function endUserLinks(client: Queryable, userId: string, at: Date): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE meter_links SET state = 'ended', ended_at = $2, is_default = false WHERE user_id = $1 AND state IN ('pending', 'active')`,
    [userId, at],
  );
  return rowCount ?? 0;
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
    await db.transaction(async (client) => {
      await lockUser(client, caller.userId);
      const link = await ownLiveLink(client, caller.userId, linkId, false);
      await client.query(`UPDATE meter_links SET state = 'ended', ended_at = $2, is_default = false WHERE id = $1`, [link.id, new Date(this.deps.clock.now())]);
      if (!link.is_default) return;
      await client.query(
        `UPDATE meter_links SET is_default = true
          WHERE id = (SELECT id FROM meter_links WHERE user_id = $1 AND state = 'active' ORDER BY created_at DESC, id DESC LIMIT 1)`,
        [caller.userId],
      );
    });
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
