// Active meter links remembered per process for rule 5's check (readableLink), forgotten over the live bus when one ends.
import type { LiveBus } from '../adapters/live-bus/live-bus.js';
import { MAX_LINKS_PER_EVENT, type LiveEvent } from '../adapters/live-bus/live-event.js';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import type { LinkMemory, LinkMemoryTicket, MeterLinkRecord } from './meter-access.js';

export interface LinkCacheOptions {
  readonly bus: LiveBus;
  readonly clock: Clock;
  readonly log: Logger;
  /**
   * How long an entry is used at most: bounds what an ending announcement lost while the bus looked up (or one that
   * could not be published) costs — the link answers for that long at worst on the instances that missed it.
   * @defaultValue 30_000
   */
  readonly ttlMs?: number;
  /** Entries held; the oldest go first beyond it. @defaultValue 10_000 */
  readonly maxEntries?: number;
}

export interface LinkCacheStats {
  /** Entries are used: the bus is up. */
  readonly trusted: boolean;
  readonly entries: number;
  /** Checks answered from memory. */
  readonly hits: number;
  /** Checks that went to PostgreSQL. */
  readonly misses: number;
  /** Link ids forgotten because they ended (here or announced). */
  readonly forgotten: number;
}

// No epoch per entry: every status report of the bus empties the map, and a row loaded under an older epoch is refused
// (its ticket), so whatever the map holds was made while the bus has stayed up; while it is down the map is empty.
interface Entry {
  readonly link: MeterLinkRecord;
  readonly at: number;
}

/**
 * Only active rows are kept (never pending, rejected, ended, nor "no such link"): the one change that matters to the
 * check is a link leaving `active`, and every such change (DELETE /v1/me/meters/{linkId}, account deletion) is
 * announced on the live bus after its commit (`links-ended`). Announcements can be lost while the bus is down or
 * reconnecting, so, as for ended sessions (src/accounts/session-revocations.ts), an entry is used only while the bus
 * is up and has stayed up since the entry was made (epochs), and never past the TTL, which bounds a loss the bus did
 * not notice. What the check reads of a link never changes while it is active (user, meter, kind, agency), so an
 * entry is as good as the row; `isDefault` may be older than the row's, and no reader of this check uses it.
 */
export class LinkCache implements LinkMemory {
  /** Insertion order is age order: an entry is re-inserted when refreshed, so the first key is the oldest. */
  private readonly entries = new Map<string, Entry>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private up = false;
  /** Counts the bus's status reports: an entry made before the bus last went down (or came back) is not used. */
  private epoch = 0;
  /** Counts endings heard: a row loaded before one is not remembered after it (it may be the ended link). */
  private endings = 0;
  private closed = false;
  private hits = 0;
  private misses = 0;
  private forgotten = 0;

  constructor(private readonly o: LinkCacheOptions) {
    this.ttlMs = o.ttlMs ?? 30_000;
    this.maxEntries = o.maxEntries ?? 10_000;
  }

  /** Listens to the bus; nothing is remembered until it is up. */
  start(): void {
    this.unsubscribe.push(
      this.o.bus.subscribe((event) => {
        if (event.kind === 'links-ended') this.forget(event.linkIds);
      }),
      this.o.bus.onStatus((status) => this.busChanged(status.up)),
    );
    this.busChanged(this.o.bus.isUp);
  }

  recall(linkId: string): MeterLinkRecord | undefined {
    const entry = this.entries.get(linkId);
    if (entry && this.o.clock.now() - entry.at < this.ttlMs) {
      this.hits++;
      return entry.link;
    }
    if (entry) this.entries.delete(linkId);
    this.misses++;
    return undefined;
  }

  ticket(): LinkMemoryTicket {
    return { epoch: this.epoch, endings: this.endings };
  }

  remember(link: MeterLinkRecord, ticket: LinkMemoryTicket): void {
    // Down (or closed, which is down for good): nothing is kept.
    if (link.state !== 'active' || !this.up) return;
    if (ticket.epoch !== this.epoch || ticket.endings !== this.endings) return;
    this.entries.delete(link.id);
    this.entries.set(link.id, { link, at: this.o.clock.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /**
   * This instance took these links out of `active` (committed): forgotten here at once, announced to the others. A
   * publish that fails is logged and not retried: the others' entries expire within the TTL anyway.
   */
  ended(linkIds: readonly string[]): void {
    if (linkIds.length === 0) return;
    this.forget(linkIds);
    for (let i = 0; i < linkIds.length; i += MAX_LINKS_PER_EVENT) {
      const event: LiveEvent = { v: 1, kind: 'links-ended', linkIds: linkIds.slice(i, i + MAX_LINKS_PER_EVENT) };
      this.o.bus.publish(event).catch((err: unknown) => {
        if (this.closed) return;
        this.o.log.warn({ err: errorMessage(err), links: event.linkIds.length, ttlMs: this.ttlMs }, 'ended links not announced; other instances may answer them until their entries expire');
      });
    }
  }

  stats(): LinkCacheStats {
    return { trusted: this.up, entries: this.entries.size, hits: this.hits, misses: this.misses, forgotten: this.forgotten };
  }

  close(): void {
    this.closed = true;
    this.busChanged(false);
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private forget(linkIds: readonly string[]): void {
    this.endings++;
    for (const id of linkIds) if (this.entries.delete(id)) this.forgotten++;
  }

  /** Every report counts, an "up" after an "up" included (a reconnect may have lost announcements in between). */
  private busChanged(up: boolean): void {
    this.up = up && !this.closed;
    this.epoch++;
    // Nothing made before this report is used again: drop it now rather than entry by entry.
    this.entries.clear();
  }
}
