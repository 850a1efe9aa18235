// What travels on the live bus: new inbox entries (fan-out → the API processes holding WebSockets), ended sessions
// and ended meter links (the API instance that ended them → the others). Best effort: PostgreSQL is the record.
import { z } from 'zod';
import { inboxItemSchema, type InboxItem } from '../../contracts/inbox-messages.js';
import type { LiveAudience } from '../../contracts/live-messages.js';
import type { BroadcastScope } from '../../domain/notification-request.js';

export const LIVE_EVENT_VERSION = 1;

/** The shared fields of a targeted job's entries: an InboxItem without its per-user id. */
export type LiveEntryFields = Omit<InboxItem, 'id'>;

/**
 * Versioned (`v`) so a rolling deploy can tell a message it does not understand from a broken one; anything that does
 * not parse is dropped and counted, never delivered. `entry` is exactly one item of GET /v1/me/notifications, so the
 * app renders a live entry and a listed one the same way. A targeted job gives every user an inbox_entries row of
 * its own (its own id), so an `entries` event carries the shared fields once plus user id → entry id: a page of
 * 1000 users is one message of ~60 KB, not 1000 copies. A broadcast is one row its scope's users see, so it carries
 * the whole item and the scope. An event may come twice (a resumed broadcast fan-out): clients dedupe by entry id.
 */
export type LiveEvent =
  | {
      readonly v: 1;
      readonly kind: 'entries';
      /** User id → that user's inbox entry id. */
      readonly entryIds: Readonly<Record<string, string>>;
      readonly entry: LiveEntryFields;
    }
  | { readonly v: 1; readonly kind: 'broadcast'; readonly scope: BroadcastScope; readonly entry: InboxItem }
  /** Sessions that ended (src/accounts/session-revocations.ts): their access tokens are refused, their sockets closed. */
  | { readonly v: 1; readonly kind: 'sessions-ended'; readonly userId: string; readonly sessionIds: readonly string[] }
  /** Meter links taken out of `active` (src/meters/link-cache.ts): every instance forgets them, so rule 5 asks PostgreSQL. */
  | { readonly v: 1; readonly kind: 'links-ended'; readonly linkIds: readonly string[] };

/** The most ids one `links-ended` event carries (an account's links are far fewer; more go in several events). */
export const MAX_LINKS_PER_EVENT = 10_000;

const entryId = z.string().regex(/^[1-9][0-9]{0,18}$/);
const item = inboxItemSchema.extend({ id: entryId });

const liveEventSchema = z.discriminatedUnion('kind', [
  z.object({
    v: z.literal(LIVE_EVENT_VERSION),
    kind: z.literal('entries'),
    entryIds: z.record(z.uuid(), entryId),
    entry: item.omit({ id: true }),
  }),
  z.object({
    v: z.literal(LIVE_EVENT_VERSION),
    kind: z.literal('broadcast'),
    scope: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('agency'), agency: z.string().min(1) }),
      z.object({ kind: z.literal('all_agencies') }),
      z.object({ kind: z.literal('everyone') }),
    ]),
    entry: item,
  }),
  z.object({
    v: z.literal(LIVE_EVENT_VERSION),
    kind: z.literal('sessions-ended'),
    userId: z.uuid(),
    sessionIds: z.array(z.uuid()).min(1).max(10_000),
  }),
  z.object({
    v: z.literal(LIVE_EVENT_VERSION),
    kind: z.literal('links-ended'),
    linkIds: z.array(z.uuid()).min(1).max(MAX_LINKS_PER_EVENT),
  }),
]);

/** The event in a bus message's text, or undefined when it is not JSON or not an event of this version. */
export function parseLiveEvent(text: string): LiveEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = liveEventSchema.safeParse(json);
  return parsed.success ? (parsed.data as LiveEvent) : undefined;
}

/** The InboxItem a user sees for an event, or undefined when the event is not for them (targeted only). */
export function entryForUser(event: Extract<LiveEvent, { kind: 'entries' }>, userId: string): InboxItem | undefined {
  const id = Object.hasOwn(event.entryIds, userId) ? event.entryIds[userId] : undefined;
  if (id === undefined) return undefined;
  const e = event.entry;
  // The field order of the list's items, so both serialise alike.
  return { id, jobId: e.jobId, type: e.type, title: e.title, body: e.body, data: e.data, createdAt: e.createdAt, read: e.read };
}

/**
 * Whether a broadcast reaches a user: the rule of the inbox (BROADCAST_VISIBLE in src/inbox/inbox-service.ts and
 * 0004_inbox.sql), on the user's account row and meter links: created no later than the broadcast, and in scope —
 * by the account's agency, or by a link of the agency active when the broadcast was sent.
 */
export function broadcastReaches(scope: BroadcastScope, entryCreatedAt: string, user: Pick<LiveAudience, 'agency' | 'createdAt' | 'links'>): boolean {
  const at = Date.parse(entryCreatedAt);
  if (at < Date.parse(user.createdAt)) return false;
  const linked = (agency: string | null) => user.links.some((l) => (agency === null || l.agency === agency) && Date.parse(l.since) <= at);
  switch (scope.kind) {
    case 'everyone':
      return true;
    case 'all_agencies':
      return user.agency !== null || linked(null);
    case 'agency':
      return user.agency === scope.agency || linked(scope.agency);
  }
}
