// The live hub: the WebSockets of GET /v1/me/notifications/live in this process, and the bus subscription that
// feeds them (a targeted page to its users' connections, a broadcast to every connection whose account sees it).
import { WebSocket } from 'ws';
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { TimerHandle } from '../../src/clock.js';
import { LIVE_CLOSE, type EndedSessions, type LiveAudience, type LiveHubMessage, type LiveHubStats } from '../../src/contracts/live-messages.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { errorMessage, toError } from '../../src/errors/app-error.js';
import type { LiveBus, LiveBusStatus } from '../../src/adapters/live-bus/live-bus.js';
import { broadcastReaches, entryForUser, type LiveEvent } from '../../src/adapters/live-bus/live-event.js';
import { resources } from '../../src/resources.js';

export interface LiveHubOptions {
  /** The bus of this process (also what the fan-out of an `all` node publishes on). The hub subscribes, never closes it. */
  readonly bus: LiveBus;
  /** Reads a user's account for admission. @defaultValue a users query through the `postgres` actor */
  readonly audience?: (ctx: ActorContext<Msg>) => (userId: string) => Promise<LiveAudience | null>;
  /** Open connections per user; one more closes the oldest. @defaultValue 5 */
  readonly maxConnectionsPerUser?: number;
  /** Bytes waiting in a socket's send buffer beyond which it is closed as a slow consumer. @defaultValue 1 MiB */
  readonly maxBufferedBytes?: number;
  /** Ping period; a socket that did not answer the previous ping is terminated. @defaultValue 30_000 */
  readonly pingIntervalMs?: number;
  /** Sessions that end in any instance (src/accounts/session-revocations.ts): their sockets are closed with 4401. */
  readonly sessionsEnded?: { onEnded(listener: (e: EndedSessions) => void): () => void };
}

type Internal =
  | { type: 'event'; event: LiveEvent }
  | { type: 'sessions-ended'; ended: EndedSessions }
  | { type: 'bus-status'; status: LiveBusStatus }
  | { type: 'pong'; connectionId: number }
  | { type: 'ping-tick' };
type Msg = LiveHubMessage | Internal;

interface Connection {
  readonly id: number;
  readonly audience: LiveAudience;
  /** The session of the token the socket was opened with (absent for tokens without one). */
  readonly sessionId: string | undefined;
  readonly socket: WebSocket;
  /** Answered the last ping. */
  alive: boolean;
}

interface State {
  readonly connections: Map<number, Connection>;
  /** Per user, oldest first. */
  readonly byUser: Map<string, Connection[]>;
  readonly lookup: (userId: string) => Promise<LiveAudience | null>;
  readonly unsubscribe: () => void;
  readonly unwatch: () => void;
  readonly unlisten: () => void;
  /** Set once cleanup runs: socket callbacks of this incarnation stop telling the (gone) actor. */
  stopped: boolean;
  nextId: number;
  pingTimer: TimerHandle | undefined;
  busUp: boolean;
  delivered: number;
  events: number;
  slowConsumersClosed: number;
  overLimitClosed: number;
  unresponsiveTerminated: number;
  sessionEndedClosed: number;
}

/**
 * A user's account and active meter links as the inbox reads them (src/inbox/inbox-service.ts, BROADCAST_VISIBLE):
 * null for a deleted or unknown account, which lists nothing. Read once when the socket opens: a link that becomes
 * active later counts from the next connection (the app lists its inbox on reconnecting; the inbox is the record).
 */
export function accountAudience(db: () => Promise<PgHandle>): (userId: string) => Promise<LiveAudience | null> {
  return async (userId) => {
    const handle = await db();
    const { rows } = await handle.query<{ agency_code: string | null; created_at: Date; links: { agency: string; since: string }[] }>(
      `SELECT u.agency_code, u.created_at,
              COALESCE((SELECT json_agg(json_build_object('agency', l.agency_code, 'since', COALESCE(l.decided_at, l.created_at)))
                          FROM meter_links l WHERE l.user_id = u.id AND l.state = 'active' AND l.agency_code IS NOT NULL), '[]'::json) AS links
         FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL`,
      [userId],
    );
    const row = rows[0];
    if (!row) return null;
    const links = row.links.map((l) => ({ agency: l.agency, since: new Date(l.since).toISOString() }));
    return { userId, agency: row.agency_code, createdAt: row.created_at.toISOString(), links };
  };
}

/**
 * The hub owns every socket it was given: it pings them (and terminates those that stop answering), closes the
 * oldest when a user opens too many, closes a slow consumer rather than buffer for it without bound, and closes
 * them all with 1001 when it stops (a client reconnects to another instance and lists its inbox again). The bus
 * being down is state (backing-off), not a crash: sockets stay open, the inbox keeps the record.
 */
export function liveHubActor(options: LiveHubOptions): () => ActorBehaviour<State, Msg> {
  const { bus } = options;
  const maxPerUser = options.maxConnectionsPerUser ?? 5;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const pingMs = options.pingIntervalMs ?? 30_000;

  const forget = (s: State, conn: Connection): void => {
    if (!s.connections.delete(conn.id)) return;
    const list = s.byUser.get(conn.audience.userId);
    const rest = list?.filter((c) => c !== conn) ?? [];
    if (rest.length) s.byUser.set(conn.audience.userId, rest);
    else s.byUser.delete(conn.audience.userId);
  };

  const close = (s: State, conn: Connection, code: number, reason: string): void => {
    forget(s, conn);
    conn.socket.close(code, reason);
  };

  /** Sends one text frame, or closes a consumer that let too much pile up. */
  const send = (s: State, conn: Connection, text: string): void => {
    if (conn.socket.readyState !== WebSocket.OPEN) return;
    // What is still waiting (not yet taken by the kernel) says the client stopped reading: closing it bounds the
    // memory a stalled phone can hold here. One large message alone never trips it.
    if (conn.socket.bufferedAmount > maxBuffered) {
      s.slowConsumersClosed++;
      close(s, conn, LIVE_CLOSE.TRY_AGAIN_LATER, 'slow consumer: reconnect and list the inbox');
      return;
    }
    conn.socket.send(text);
    s.delivered++;
  };

  const deliver = (s: State, event: LiveEvent): void => {
    if (event.kind === 'sessions-ended') return; // the session registry hears these and tells the hub (sessions-ended)
    if (event.kind === 'links-ended') return; // for the link cache (src/meters/link-cache.ts); no socket shows links
    if (event.kind === 'entries') {
      for (const userId of Object.keys(event.entryIds)) {
        const conns = s.byUser.get(userId);
        if (!conns) continue;
        const entry = entryForUser(event, userId);
        if (!entry) continue;
        const text = JSON.stringify({ type: 'notification', entry });
        for (const conn of [...conns]) send(s, conn, text);
      }
      return;
    }
    const text = JSON.stringify({ type: 'notification', entry: event.entry });
    for (const conn of [...s.connections.values()]) {
      if (broadcastReaches(event.scope, event.entry.createdAt, conn.audience)) send(s, conn, text);
    }
  };

  const schedulePing = (s: State, ctx: ActorContext<Msg>): void => {
    s.pingTimer = ctx.setTimer(() => ctx.self.tell({ type: 'ping-tick' }), pingMs);
  };

  return () => ({
    init(ctx) {
      // Both callbacks only enqueue: the state changes in handle, one message at a time.
      const unsubscribe = bus.subscribe((event) => ctx.self.tell({ type: 'event', event }));
      const unwatch = bus.onStatus((status) => ctx.self.tell({ type: 'bus-status', status }));
      const unlisten = options.sessionsEnded?.onEnded((ended) => ctx.self.tell({ type: 'sessions-ended', ended })) ?? (() => undefined);
      const s: State = {
        connections: new Map(),
        byUser: new Map(),
        lookup: options.audience ? options.audience(ctx) : accountAudience(resources(ctx).db),
        unsubscribe,
        unwatch,
        unlisten,
        stopped: false,
        nextId: 1,
        pingTimer: undefined,
        busUp: bus.isUp,
        delivered: 0,
        events: 0,
        slowConsumersClosed: 0,
        overLimitClosed: 0,
        unresponsiveTerminated: 0,
        sessionEndedClosed: 0,
      };
      if (s.busUp) ctx.setStatus('running');
      else ctx.setStatus('backing-off', 'live bus connecting (live notifications paused; the inbox is unaffected)');
      schedulePing(s, ctx);
      return s;
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'admit': {
          const replyTo = msg.replyTo;
          s.lookup(msg.caller.userId).then(
            (audience) => replyTo.ok(audience),
            (e: unknown) => replyTo.fail(toError(e)),
          );
          return s;
        }
        case 'attach': {
          const { socket, audience, sessionId } = msg;
          if (socket.readyState !== WebSocket.OPEN) {
            // Gone between the upgrade and this message: nothing to hold.
            msg.replyTo.ok({ connectionId: 0 });
            return s;
          }
          const conn: Connection = { id: s.nextId++, audience, sessionId, socket, alive: true };
          const mine = [...(s.byUser.get(audience.userId) ?? [])];
          while (mine.length >= maxPerUser) {
            const oldest = mine.shift()!;
            s.overLimitClosed++;
            close(s, oldest, LIVE_CLOSE.TOO_MANY_CONNECTIONS, `more than ${maxPerUser} connections for this user`);
          }
          s.connections.set(conn.id, conn);
          s.byUser.set(audience.userId, [...(s.byUser.get(audience.userId) ?? []), conn]);
          socket.on('pong', () => {
            if (!s.stopped) ctx.self.tell({ type: 'pong', connectionId: conn.id });
          });
          socket.once('close', () => {
            if (!s.stopped) ctx.self.tell({ type: 'detach', connectionId: conn.id });
          });
          // A socket error is followed by 'close'; without a listener it would be an uncaught exception.
          socket.on('error', (e) => ctx.log.debug({ err: e, connectionId: conn.id }, 'live socket error'));
          msg.replyTo.ok({ connectionId: conn.id });
          return s;
        }
        case 'detach': {
          const conn = s.connections.get(msg.connectionId);
          if (conn) forget(s, conn);
          return s;
        }
        case 'pong': {
          const conn = s.connections.get(msg.connectionId);
          if (conn) conn.alive = true;
          return s;
        }
        case 'ping-tick': {
          for (const conn of [...s.connections.values()]) {
            if (!conn.alive) {
              s.unresponsiveTerminated++;
              forget(s, conn);
              conn.socket.terminate();
              continue;
            }
            conn.alive = false;
            try {
              conn.socket.ping();
            } catch (e) {
              // Not open any more: its 'close' is on the way.
              ctx.log.debug({ err: e, connectionId: conn.id }, 'live ping not sent');
            }
          }
          schedulePing(s, ctx);
          return s;
        }
        case 'event':
          s.events++;
          deliver(s, msg.event);
          return s;
        case 'sessions-ended': {
          const ended = new Set(msg.ended.sessionIds);
          for (const conn of [...(s.byUser.get(msg.ended.userId) ?? [])]) {
            if (conn.sessionId === undefined || !ended.has(conn.sessionId)) continue;
            s.sessionEndedClosed++;
            close(s, conn, LIVE_CLOSE.TOKEN_EXPIRED, 'session ended');
          }
          return s;
        }
        case 'bus-status':
          s.busUp = msg.status.up;
          if (msg.status.up) {
            ctx.log.info('live bus up: live notifications flowing again');
            ctx.setStatus('running');
          } else {
            ctx.setStatus('backing-off', `${msg.status.detail ?? 'live bus down'}; live notifications paused, the inbox is unaffected`, new Error(msg.status.detail ?? 'live bus down'));
          }
          return s;
        case 'stats': {
          const stats: LiveHubStats = {
            busUp: s.busUp,
            connections: s.connections.size,
            users: s.byUser.size,
            delivered: s.delivered,
            events: s.events,
            slowConsumersClosed: s.slowConsumersClosed,
            overLimitClosed: s.overLimitClosed,
            unresponsiveTerminated: s.unresponsiveTerminated,
            sessionEndedClosed: s.sessionEndedClosed,
            bus: bus.stats(),
          };
          msg.replyTo.ok(stats);
          return s;
        }
      }
    },

    cleanup(s, ctx) {
      s.stopped = true;
      s.unsubscribe();
      s.unwatch();
      s.unlisten();
      for (const conn of s.connections.values()) {
        try {
          conn.socket.close(LIVE_CLOSE.GOING_AWAY, 'server shutting down');
        } catch (e) {
          ctx.log.debug({ err: errorMessage(e) }, 'live socket not closed cleanly');
          conn.socket.terminate();
        }
      }
      s.connections.clear();
      s.byUser.clear();
    },
  });
}
