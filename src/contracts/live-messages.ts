// Messages of the live hub (actors/services/live-hub-actor.ts): the WebSockets of GET /v1/me/notifications/live.
import type { WebSocket } from 'ws';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

/** Sessions of one user that ended (src/accounts/session-revocations.ts): tokens refused, sockets closed. */
export interface EndedSessions {
  readonly userId: string;
  readonly sessionIds: readonly string[];
}

/** What decides which broadcasts a connection receives: the user's account row, as the inbox reads it. */
export interface LiveAudience {
  readonly userId: string;
  /** users.agency_code (agents; a customer's may be set too). */
  readonly agency: string | null;
  /** The agencies of the user's active meter links when the socket opened, each since its link became active (ISO). */
  readonly links: readonly { readonly agency: string; readonly since: string }[];
  /** users.created_at, ISO: broadcasts sent before the account existed are not theirs. */
  readonly createdAt: string;
}

/** The live bus's counters (Redis pub/sub, or in process without Redis). */
export interface LiveBusStats {
  readonly kind: 'redis' | 'memory';
  readonly up: boolean;
  /** Events this process published (Redis acknowledged the PUBLISH). */
  readonly published: number;
  /** Publishes that failed (bus down, timeout): those events were not delivered live. */
  readonly failed: number;
  /** Valid events received from the channel. */
  readonly received: number;
  /** Messages on the channel that were not a valid event: dropped. */
  readonly malformed: number;
  readonly lastError: string | null;
}

export interface LiveHubStats {
  readonly busUp: boolean;
  readonly connections: number;
  readonly users: number;
  /** Notifications written to sockets. */
  readonly delivered: number;
  /** Events received from the bus. */
  readonly events: number;
  /** Closed with 1013: more than the buffer limit was waiting to be sent. */
  readonly slowConsumersClosed: number;
  /** Closed because the user opened more than the per-user limit (the oldest goes). */
  readonly overLimitClosed: number;
  /** Terminated after missing a pong. */
  readonly unresponsiveTerminated: number;
  /** Closed with 4401 because their session ended (logout, PIN change or reset, deletion) in any instance. */
  readonly sessionEndedClosed: number;
  readonly bus: LiveBusStats;
}

export type LiveHubMessage =
  /** Before the upgrade: the caller's account as the inbox sees it; null when it no longer exists. */
  | { type: 'admit'; caller: Caller; replyTo: Reply<LiveAudience | null> }
  /** After the upgrade: the hub owns the socket from now on (pings, closes, sends). */
  | { type: 'attach'; socket: WebSocket; audience: LiveAudience; sessionId: string | undefined; replyTo: Reply<{ connectionId: number }> }
  | { type: 'detach'; connectionId: number }
  | { type: 'stats'; replyTo: Reply<LiveHubStats> };

/** Close codes of the live connections (WebSocket; 4000–4999 are the application's own). */
export const LIVE_CLOSE = {
  /** The server (or this hub) is stopping: reconnect elsewhere. */
  GOING_AWAY: 1001,
  /** More was waiting to be sent than the limit: the client is too slow. */
  TRY_AGAIN_LATER: 1013,
  /** The user opened more connections than allowed; this, the oldest, was closed for the newest. */
  TOO_MANY_CONNECTIONS: 4001,
  /** The access token the connection was opened with expired, or its session ended: reconnect with a fresh one. */
  TOKEN_EXPIRED: 4401,
} as const;
