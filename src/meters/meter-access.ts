// Who may see a meter link's data (DOMAIN.md rule 5): its user while it is active, an agent of the meter's agency,
// an admin. Every read by link id goes through readableLink; anything else is the same 404.
import type { Caller } from '../contracts/caller.js';
import type { MeterKind, MeterLink, MeterLinkState } from '../contracts/meters-messages.js';
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import { MeterLinkNotFoundError } from './meter-link-errors.js';

export type { Queryable };

/** A meter_links row (0015_meter_links.sql) as the features use it. */
export interface MeterLinkRecord {
  readonly id: string;
  readonly userId: string;
  readonly kind: MeterKind;
  readonly meter: string;
  /** The prepaid meter's POC (its sales are matched on meter and POC); null for postpaid. */
  readonly police: string | null;
  readonly agency: string | null;
  readonly owner: boolean;
  readonly state: MeterLinkState;
  readonly isDefault: boolean;
  readonly createdAt: Date;
  readonly decidedAt: Date | null;
}

export interface MeterLinkRow {
  id: string;
  user_id: string;
  kind: MeterKind;
  meter: string;
  police: string | null;
  agency_code: string | null;
  owner: boolean;
  state: MeterLinkState;
  is_default: boolean;
  created_at: Date;
  decided_at: Date | null;
}

/** The columns MeterLinkRow reads, for `SELECT ${LINK_COLUMNS} FROM meter_links …`. */
export const LINK_COLUMNS = 'id, user_id, kind, meter, police, agency_code, owner, state, is_default, created_at, decided_at';

export function linkRecord(row: MeterLinkRow): MeterLinkRecord {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    meter: row.meter,
    police: row.police,
    agency: row.agency_code,
    owner: row.owner,
    state: row.state,
    isDefault: row.is_default,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  };
}

/** The link as the API shows it. */
export function linkView(link: MeterLinkRecord): MeterLink {
  return {
    id: link.id,
    kind: link.kind,
    meter: link.meter,
    state: link.state,
    owner: link.owner,
    isDefault: link.isDefault,
    agency: link.agency,
    createdAt: link.createdAt.toISOString(),
    decidedAt: link.decidedAt?.toISOString() ?? null,
  };
}


/** A link id's form; anything else is no link, answered without a query. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The link row by id, whoever it belongs to (callers check who may see it). */
export async function linkById(client: Queryable, linkId: string): Promise<MeterLinkRow | undefined> {
  if (!UUID.test(linkId)) return undefined;
  const { rows } = await client.query<MeterLinkRow>(`SELECT ${LINK_COLUMNS} FROM meter_links WHERE id = $1`, [linkId]);
  return rows[0];
}

/** Whether the caller may read the data of this link's meter: rule 5 on a row already loaded. */
export function mayRead(caller: Caller, link: MeterLinkRecord): boolean {
  if (link.state !== 'active') return false;
  switch (caller.role) {
    case 'admin':
      return true;
    case 'agent':
      return caller.agency !== null && link.agency === caller.agency;
    case 'customer':
      return link.userId === caller.userId;
  }
}

/**
 * What readableLink may remember of active links between reads (link-cache.ts): a `recall` answers only an active
 * row it may still trust; a `remember` with the ticket taken before the row was loaded keeps it unless something
 * (an ended link, the bus going down) happened since, so a row read just before an ending is never kept after it.
 */
export interface LinkMemory {
  recall(linkId: string): MeterLinkRecord | undefined;
  ticket(): LinkMemoryTicket;
  remember(link: MeterLinkRecord, ticket: LinkMemoryTicket): void;
}

/** Opaque to readableLink: what the memory knew when a load began. */
export interface LinkMemoryTicket {
  readonly epoch: number;
  readonly endings: number;
}

/**
 * The active link `linkId` when the caller may read its meter's data; else MeterLinkNotFoundError (404), the same
 * for an id that is no link, another customer's link, another agency's meter, or a link not active. With a memory,
 * an active link it still trusts answers without PostgreSQL (no handle is lent either); anything else is loaded.
 */
export async function readableLink(db: () => Promise<Queryable>, caller: Caller, linkId: string, memory?: LinkMemory): Promise<MeterLinkRecord> {
  if (!UUID.test(linkId)) throw new MeterLinkNotFoundError();
  const known = memory?.recall(linkId);
  if (known && mayRead(caller, known)) return known;
  // Refused from memory, the lookup runs all the same: a link someone else may read must take as long to refuse as an
  // id that is no link, or the time of a 404 would tell a prober which ids are live links. Only probers pay for it.
  const ticket = memory?.ticket();
  const row = await linkById(await db(), linkId);
  const link = row ? linkRecord(row) : undefined;
  if (!link || !mayRead(caller, link)) throw new MeterLinkNotFoundError();
  // Remembered only for a caller who may read it, so a refused probe never warms the memory either.
  if (memory && ticket && link.state === 'active') memory.remember(link, ticket);
  return link;
}
