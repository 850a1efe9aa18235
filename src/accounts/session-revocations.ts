// Ended sessions, known to every API instance at once: a logout, PIN change or account deletion must reach every
// instance's token check rather than wait 15 minutes for the access token (which carries its `sid`) to expire.
import type { Clock } from '../clock.js';
import type { EndedSessions } from '../contracts/live-messages.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { isAppError, ServiceUnavailableError, errorMessage } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import type { LiveBus } from '../adapters/live-bus/live-bus.js';
import type { LiveEvent } from '../adapters/live-bus/live-event.js';

export interface SessionRevocationsStats {
  /** Checks answer from memory (bus up and rebuilt since it came up). */
  readonly trusted: boolean;
  /** Ended sessions held (those ended within one access-token lifetime). */
  readonly known: number;
  readonly memoryChecks: number;
  readonly databaseChecks: number;
  readonly rebuilds: number;
  /** Announcements waiting for the bus. */
  readonly pending: number;
}

export interface SessionRevocationsOptions {
  readonly bus: LiveBus;
  readonly db: () => Promise<PgHandle>;
  /** The clock the tokens are issued and judged on. */
  readonly clock: Clock;
  /** How long an ended session is remembered: the access-token lifetime plus the verifier's clock tolerance. */
  readonly rememberMs: number;
  readonly log: Logger;
  /** Delay before a rebuild that failed (PostgreSQL away) is tried again. @defaultValue 1_000 */
  readonly retryMs?: number;
}

/** Announcements kept while the bus is down; beyond this the oldest go (the rebuild of each instance covers them). */
const MAX_PENDING = 10_000;

/**
 * Each instance keeps the sessions ended within one access-token lifetime in memory and checks every authenticated
 * request against it: no database round trip in the common case. The instance that ends a session adds it at once
 * and announces it on the live bus; every instance adds what it hears. Announcements can be lost (Redis down, a
 * subscriber reconnecting), so the memory is trusted only while the bus is up and after it was rebuilt from
 * PostgreSQL (`device_sessions.ended_at`, indexed) since the bus last came up: at start and at every reconnect.
 * Until then each check is a primary-key lookup (fail closed: no answer, 503). An announcement that could not be
 * published is kept and published again when the bus returns. (DESIGN suggested Redis keys with a TTL; memory fed
 * by pub/sub saves a Redis round trip per request, and PostgreSQL is the record both ways.)
 */
export class SessionRevocations {
  /** Session id → when it may be forgotten (its last access token has expired by then). */
  private readonly ended = new Map<string, number>();
  private readonly listeners = new Set<(e: EndedSessions) => void>();
  private readonly pending: EndedSessions[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private trusted = false;
  /** Counts the bus's comings up: a rebuild started before the bus last went down does not make the memory trusted. */
  private epoch = 0;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private memoryChecks = 0;
  private databaseChecks = 0;
  private rebuilds = 0;
  /** The map size at which expired entries are next swept. */
  private sweepAt = 1_024;

  constructor(private readonly o: SessionRevocationsOptions) {}

  /** Listens to the bus and loads what PostgreSQL knows; checks go to PostgreSQL until that load is done. */
  start(): void {
    this.unsubscribe.push(
      this.o.bus.subscribe((event) => {
        if (event.kind === 'sessions-ended') this.remember({ userId: event.userId, sessionIds: event.sessionIds });
      }),
      this.o.bus.onStatus((status) => (status.up ? this.busUp() : this.busDown())),
    );
    if (this.o.bus.isUp) this.busUp();
  }

  /** Calls `listener` for every session this instance learns has ended (the live hub closes their sockets). */
  onEnded(listener: (e: EndedSessions) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether the session has ended; rejects with 503 DATABASE_UNAVAILABLE when it must ask PostgreSQL and cannot. */
  async isEnded(sessionId: string): Promise<boolean> {
    const now = this.o.clock.now();
    const known = this.ended.get(sessionId);
    if (known !== undefined && known > now) return true;
    if (this.trusted) {
      this.memoryChecks++;
      return false;
    }
    this.databaseChecks++;
    try {
      const db = await this.o.db();
      const { rows } = await db.query<{ state: string }>(`SELECT state FROM device_sessions WHERE id = $1`, [sessionId]);
      // No row: a session that never existed here (or was removed) is no session.
      return rows[0]?.state !== 'active';
    } catch (e) {
      if (isAppError(e)) throw e;
      throw new ServiceUnavailableError('postgres', 'The session could not be checked.', 1_000, 'DATABASE_UNAVAILABLE', { cause: e });
    }
  }

  /** This instance ended these sessions (committed): refused here at once, announced to the others. */
  announce(ended: EndedSessions): void {
    if (ended.sessionIds.length === 0) return;
    this.remember(ended);
    this.publish(ended);
  }

  stats(): SessionRevocationsStats {
    return { trusted: this.trusted, known: this.ended.size, memoryChecks: this.memoryChecks, databaseChecks: this.databaseChecks, rebuilds: this.rebuilds, pending: this.pending.length };
  }

  close(): void {
    this.closed = true;
    this.trusted = false;
    clearTimeout(this.retry);
    for (const u of this.unsubscribe.splice(0)) u();
    this.listeners.clear();
  }

  private remember(e: EndedSessions): void {
    const now = this.o.clock.now();
    this.forgetExpired(now);
    for (const id of e.sessionIds) this.ended.set(id, now + this.o.rememberMs);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.o.log.error({ err }, 'ended-session listener threw');
      }
    }
  }

  /** Drops what no live token can name any more; amortised: only when the map has doubled since the last sweep. */
  private forgetExpired(now: number): void {
    if (this.ended.size < this.sweepAt) return;
    for (const [id, until] of this.ended) if (until <= now) this.ended.delete(id);
    this.sweepAt = Math.max(1_024, this.ended.size * 2);
  }

  private publish(e: EndedSessions): void {
    const event: LiveEvent = { v: 1, kind: 'sessions-ended', userId: e.userId, sessionIds: [...e.sessionIds] };
    this.o.bus.publish(event).catch((err: unknown) => {
      if (this.closed) return;
      this.pending.push(e);
      if (this.pending.length > MAX_PENDING) this.pending.shift();
      this.o.log.warn({ err: errorMessage(err), pending: this.pending.length }, 'ended sessions not announced; kept for when the live bus returns');
    });
  }

  private busDown(): void {
    this.trusted = false;
    this.epoch++;
  }

  private busUp(): void {
    const epoch = ++this.epoch;
    for (const e of this.pending.splice(0)) this.publish(e);
    void this.rebuild(epoch);
  }

  /** Loads the sessions ended within one token lifetime; trusted once done, unless the bus went down meanwhile. */
  private async rebuild(epoch: number): Promise<void> {
    clearTimeout(this.retry);
    try {
      const db = await this.o.db();
      const since = new Date(this.o.clock.now() - this.o.rememberMs);
      const { rows } = await db.query<{ user_id: string; ids: string[] }>(
        `SELECT user_id, array_agg(id::text) AS ids FROM device_sessions WHERE ended_at > $1 GROUP BY user_id`,
        [since],
      );
      if (this.closed || epoch !== this.epoch) return;
      for (const r of rows) this.remember({ userId: r.user_id, sessionIds: r.ids });
      this.trusted = true;
      this.rebuilds++;
      this.o.log.info({ ended: this.ended.size }, 'ended sessions loaded from PostgreSQL; token checks answer from memory');
    } catch (e) {
      if (this.closed || epoch !== this.epoch) return;
      this.o.log.warn({ err: errorMessage(e) }, 'ended sessions not loaded; token checks ask PostgreSQL until they are');
      this.retry = setTimeout(() => void this.rebuild(epoch), this.o.retryMs ?? 1_000);
      this.retry.unref();
    }
  }
}
