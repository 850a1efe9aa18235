// Pending access requests and their decision: an active owner of the meter, an agent of the meter's agency or an
// admin approves or rejects; the requester is told, in the decision's transaction.
import type { Caller } from '../contracts/caller.js';
import type { MeterDecision, MeterLink, MeterRequestList } from '../contracts/meters-messages.js';
import { acceptSystemJob } from '../notifications/index.js';
import { LINK_COLUMNS, linkById, linkRecord, linkView, type MeterLinkRecord, type MeterLinkRow, type Queryable } from './meter-access.js';
import { hasDefault, lockUser, type MeterLinkDeps } from './meter-link-deps.js';
import { MeterLinkNotFoundError, MeterLinkNotPendingError } from './meter-link-errors.js';
import { linkDecided } from './meter-link-notices.js';
import { queueSicRegistration } from './sic-registrations.js';

const REQUEST_COLUMNS = LINK_COLUMNS.split(', ')
  .map((c) => `l.${c}`)
  .join(', ');

/** Whether the caller holds an active owner link to this meter. */
async function ownsMeter(client: Queryable, userId: string, link: Pick<MeterLinkRecord, 'kind' | 'meter'>): Promise<boolean> {
  const { rowCount } = await client.query(
    `SELECT 1 FROM meter_links WHERE user_id = $1 AND kind = $2 AND meter = $3 AND state = 'active' AND owner`,
    [userId, link.kind, link.meter],
  );
  return (rowCount ?? 0) > 0;
}

/** What a customer's ownership is checked against when the id is no link: no meter matches it. */
const NO_METER = { kind: 'prepaid', meter: '' } as const;

/**
 * Who may decide on a link (undefined: the id is no link): an admin, an agent of its agency, an active owner of its
 * meter. A customer's check runs the same query whatever the id, so an unknown id and another's link are refused
 * in the same time.
 */
async function mayDecide(client: Queryable, caller: Caller, link: MeterLinkRecord | undefined): Promise<boolean> {
  switch (caller.role) {
    case 'admin':
      return link !== undefined;
    case 'agent':
      return link !== undefined && caller.agency !== null && link.agency === caller.agency;
    case 'customer': {
      const owns = await ownsMeter(client, caller.userId, link ?? NO_METER);
      return link !== undefined && link.userId !== caller.userId && owns;
    }
  }
}

export class MeterLinkDecisions {
  constructor(private readonly deps: MeterLinkDeps) {}

  /** The pending requests the caller may decide, oldest first: on their meters, their agency's, or all (admin). */
  async requests(caller: Caller, limit: number): Promise<MeterRequestList> {
    const scope =
      caller.role === 'admin'
        ? { where: '', values: [] as unknown[] }
        : caller.role === 'agent'
          ? { where: 'AND l.agency_code = $2', values: [caller.agency] }
          : {
              where: `AND EXISTS (SELECT 1 FROM meter_links o WHERE o.user_id = $2 AND o.owner AND o.state = 'active' AND o.kind = l.kind AND o.meter = l.meter)`,
              values: [caller.userId],
            };
    // An agent without an agency decides nothing: `agency_code = NULL` matches no row.
    const db = await this.deps.db();
    const { rows } = await db.query<MeterLinkRow & { first_name: string | null }>(
      `SELECT ${REQUEST_COLUMNS}, u.first_name FROM meter_links l JOIN users u ON u.id = l.user_id
        WHERE l.state = 'pending' ${scope.where} ORDER BY l.created_at, l.id LIMIT $1`,
      [limit, ...scope.values],
    );
    return { items: rows.map((r) => ({ ...linkView(linkRecord(r)), requesterFirstName: r.first_name })) };
  }

  /** Approves or rejects a pending link; anyone who may not decide it gets the 404 of a link that does not exist. */
  async decide(caller: Caller, linkId: string, decision: MeterDecision): Promise<MeterLink> {
    const db = await this.deps.db();
    const decided = await db.transaction(async (client) => {
      const row = await linkById(client, linkId);
      const link = row ? linkRecord(row) : undefined;
      if (!(await mayDecide(client, caller, link)) || !link) throw new MeterLinkNotFoundError();
      const at = new Date(this.deps.clock.now());
      const approved = decision === 'approve';
      // The requester's row first, as linking does: their default cannot be set twice by a link and an approval.
      await lockUser(client, link.userId);
      const makeDefault = approved && !(await hasDefault(client, link.userId));
      // `state = 'pending'` in the update itself: of two deciders racing, one updates and the other finds none.
      const { rows } = await client.query<MeterLinkRow>(
        `UPDATE meter_links SET state = $2, is_default = $3, decided_at = $4, decided_by = $5
          WHERE id = $1 AND state = 'pending' RETURNING ${LINK_COLUMNS}`,
        [link.id, approved ? 'active' : 'rejected', makeDefault, at, caller.userId],
      );
      if (!rows[0]) throw new MeterLinkNotPendingError();
      const decided = linkRecord(rows[0]);
      if (approved) await queueSicRegistration(client, decided, at);
      await acceptSystemJob(client, linkDecided(caller.userId, decided.userId, { linkId: decided.id, kind: decided.kind, meter: decided.meter }, approved), at);
      return linkView(decided);
    });
    if (decided.state === 'active') this.deps.activated?.();
    return decided;
  }
}
