// Linking a meter (DOMAIN.md rule 4): look it up in SIC, then an active owner link at once (phone on file = the
// user's proved phone) or a pending one its owners are told about, in one transaction with its notification.
import { randomUUID } from 'node:crypto';
import type { Caller } from '../contracts/caller.js';
import type { LinkMeterInput, MeterKind, MeterLink } from '../contracts/meters-messages.js';
import { postpaidAccount, prepaidCustomer } from '../customer-data/index.js';
import { acceptSystemJob } from '../notifications/index.js';
import { LINK_COLUMNS, linkRecord, linkView, type MeterLinkRow, type Queryable } from './meter-access.js';
import { hasDefault, lockUser, type MeterLinkDeps } from './meter-link-deps.js';
import { MeterAlreadyLinkedError, MeterLinkForbiddenError, MeterNotFoundError } from './meter-link-errors.js';
import { accessRequested } from './meter-link-notices.js';
import { queueSicRegistration } from './sic-registrations.js';

/** What SIC says of the meter: what the link keeps (POC, agency) and the phone ownership is decided by. */
interface FoundMeter {
  readonly kind: MeterKind;
  /** As the source keys it (a postpaid account without its leading zeros). */
  readonly meter: string;
  readonly police: string | null;
  readonly agency: string | null;
  /** E.164, or null when the source has none (then nobody owns it by phone). */
  readonly phone: string | null;
}

/** The unique index that holds one live link per user and meter (0015_meter_links.sql). */
const LIVE_INDEX = 'meter_links_live';

function isLiveLinkRace(e: unknown): boolean {
  const pgError = e as { code?: string; constraint?: string };
  return pgError?.code === '23505' && pgError.constraint === LIVE_INDEX;
}

/**
 * The SIC row a pending link keeps when no phone matched: a prepaid meter may carry several rows (a former customer's
 * beside the current one), and the row decides the POC its sales are read under and the agency whose agents may
 * approve. The row of the meter's owner in the app when there is one (the person asked to approve it); else, the same
 * row on every request, the greatest POC.
 */
async function pendingRow(client: Queryable, candidates: readonly FoundMeter[]): Promise<FoundMeter> {
  const first = candidates[0]!;
  if (candidates.length === 1) return first;
  const { rows } = await client.query<{ police: string | null }>(
    `SELECT police FROM meter_links WHERE kind = $1 AND meter = $2 AND state = 'active' AND owner ORDER BY created_at LIMIT 1`,
    [first.kind, first.meter],
  );
  const owners = rows[0] ? candidates.find((c) => c.police === rows[0]!.police) : undefined;
  return owners ?? [...candidates].sort((a, b) => comparePolice(b.police, a.police))[0]!;
}

/** POC numbers compared as numbers when both are digits, else as text. */
function comparePolice(a: string | null, b: string | null): number {
  const x = a ?? '';
  const y = b ?? '';
  if (/^\d+$/.test(x) && /^\d+$/.test(y)) {
    const [p, q] = [x.replace(/^0+/, ""), y.replace(/^0+/, "")];
    if (p.length !== q.length) return p.length - q.length;
    return p < q ? -1 : p > q ? 1 : 0;
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

export class MeterLinking {
  private readonly newId: () => string;

  constructor(private readonly deps: MeterLinkDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async link(caller: Caller, input: LinkMeterInput, ip: string): Promise<MeterLink> {
    if (caller.role !== 'customer') throw new MeterLinkForbiddenError();
    // Counted before the lookup, for hits and misses alike: what keeps meter numbers from being enumerated.
    await this.deps.limit('meter-link', caller.userId);
    await this.deps.limit('meter-link-ip', ip);
    const candidates = await this.lookup(input);
    if (candidates.length === 0) throw new MeterNotFoundError();
    const db = await this.deps.db();
    try {
      const link = await db.transaction((client) => this.insert(client, caller, candidates));
      if (link.state === 'active') this.deps.activated?.();
      return link;
    } catch (e) {
      // Two requests of the same user racing past the check below: the index lets one through.
      if (isLiveLinkRace(e)) throw new MeterAlreadyLinkedError(null);
      throw e;
    }
  }

  /** The meter's rows in SIC: a prepaid meter may carry several (a former customer's row beside the current one). */
  private async lookup(input: LinkMeterInput): Promise<FoundMeter[]> {
    if (input.kind === 'prepaid') {
      const { rows } = await this.deps.reader.read(prepaidCustomer, { meter: input.meter });
      return rows.map((r) => ({ kind: 'prepaid', meter: r.meterNumber, police: r.police, agency: r.agency, phone: r.phone }));
    }
    const { rows } = await this.deps.reader.read(postpaidAccount, { account: input.meter });
    return rows.map((r) => ({ kind: 'postpaid', meter: r.contractAccount, police: null, agency: r.agency, phone: r.phone }));
  }

  private async insert(client: Queryable, caller: Caller, candidates: readonly FoundMeter[]): Promise<MeterLink> {
    const user = await lockUser(client, caller.userId);
    // A deleted account's sessions ended with it; a token racing the deletion finds no meter to link.
    if (!user) throw new MeterNotFoundError();
    // Ownership is the proved phone equal to a phone on file, both E.164; the row that matched is the one kept.
    const mine = user.proved && user.phone !== null ? candidates.find((c) => c.phone === user.phone) : undefined;
    const found = mine ?? (await pendingRow(client, candidates));
    const existing = await client.query<{ id: string }>(
      `SELECT id FROM meter_links WHERE user_id = $1 AND kind = $2 AND meter = $3 AND state IN ('pending', 'active')`,
      [caller.userId, found.kind, found.meter],
    );
    if (existing.rows[0]) throw new MeterAlreadyLinkedError(existing.rows[0].id);

    const at = new Date(this.deps.clock.now());
    const owner = mine !== undefined;
    const isDefault = owner && !(await hasDefault(client, caller.userId));
    const { rows } = await client.query<MeterLinkRow>(
      `INSERT INTO meter_links (id, user_id, kind, meter, police, agency_code, owner, state, is_default, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${LINK_COLUMNS}`,
      [this.newId(), caller.userId, found.kind, found.meter, found.police, found.agency, owner, owner ? 'active' : 'pending', isDefault, at],
    );
    const link = linkRecord(rows[0]!);
    if (owner) {
      await queueSicRegistration(client, link, at);
    } else {
      const owners = await client.query<{ user_id: string }>(
        `SELECT DISTINCT user_id FROM meter_links WHERE kind = $1 AND meter = $2 AND state = 'active' AND owner ORDER BY user_id`,
        [link.kind, link.meter],
      );
      if (owners.rows.length > 0) {
        const requester = { userId: caller.userId, firstName: user.firstName };
        await acceptSystemJob(client, accessRequested(requester, owners.rows.map((r) => r.user_id), { linkId: link.id, kind: link.kind, meter: link.meter }), at);
      }
    }
    return linkView(link);
  }
}
