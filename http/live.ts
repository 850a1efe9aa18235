// GET /v1/me/notifications/live: a WebSocket on which the signed-in user receives their new inbox entries as they
// are written, as `{ type: 'notification', entry }` (best effort: the app lists its inbox on every (re)connect).
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { LIVE_CLOSE, type LiveAudience, type LiveHubMessage } from '../src/contracts/live-messages.js';
import type { PayloadOf, ReplyOf } from '../src/contracts/reply.js';
import type { Logger } from '../src/logger.js';
import { authenticate, type Caller, type TokenVerifier } from './auth.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from './http-errors.js';
import { INCOMING_REQUEST_ID } from './middleware/request-id.js';
import { toProblem } from './problem.js';
import { inboxRoutes } from './routes/inbox-routes.js';

export const LIVE_PATH = '/v1/me/notifications/live';
export const BEARER_SUBPROTOCOL = 'bearer';

/** Who may connect: exactly who may list the inbox (read off that route, so the two cannot drift apart). */
const LIST_ROUTE = inboxRoutes({ gateway: { ask: () => Promise.reject(new Error('not called')) } }).find((r) => r.key === 'GET /v1/me/notifications');
if (!LIST_ROUTE || LIST_ROUTE.auth === 'public') throw new Error('GET /v1/me/notifications must exist and be private');
export const LIVE_ROLES = LIST_ROUTE.auth;

/** The part of the Gateway the endpoint uses (the Gateway itself, with `live-hub` in ActorContracts). */
export interface LiveHubGateway {
  ask<T extends LiveHubMessage['type']>(
    actor: 'live-hub',
    type: T,
    payload: PayloadOf<Extract<LiveHubMessage, { type: T }>>,
    options?: { deadlineMs?: number },
  ): Promise<ReplyOf<Extract<LiveHubMessage, { type: T }>>>;
}

export interface LiveEndpointDeps {
  readonly gateway: LiveHubGateway;
  readonly verifier: TokenVerifier;
  /** config.http.corsOrigins: the browser origins allowed to connect. */
  readonly corsOrigins: readonly string[];
  readonly log: Logger;
  /** Deadline of each hub query (config.queryDeadlineMs). @defaultValue 5_000 */
  readonly deadlineMs?: number;
  /** The clock tokens are judged on (the token verifier's). @defaultValue Date.now */
  readonly now?: () => number;
  /** Largest frame a client may send (it has nothing to say): a larger one closes with 1009. @defaultValue 1024 */
  readonly maxPayloadBytes?: number;
}

export interface LiveEndpoint {
  /** Stops taking upgrades (the hub closes the open sockets when it stops). */
  close(): void;
}

/**
 * Serves LIVE_PATH on `server`'s upgrade event; any other upgrade is a 404. `entry` is shaped like one item of
 * GET /v1/me/notifications; clients dedupe by its id (a resumed fan-out may announce an entry twice).
 *
 * Everything is decided before the upgrade, so a refusal is a plain problem response like the rest of the API: the
 * path (404), the Origin against the CORS allowlist (403; no Origin = not a browser, allowed), the access token
 * (401) and the role (403, those of GET /v1/me/notifications), then the account through the live hub (401 when it
 * no longer exists, 503 when the database cannot say). The token comes in the Authorization header or, from
 * browsers (which cannot set headers on a WebSocket), as the subprotocol pair `bearer, <token>`, answered with
 * `bearer`; never in the query string, since URLs end up in access logs.
 */
export function attachLiveEndpoint(server: Server, deps: LiveEndpointDeps): LiveEndpoint {
  const { gateway, verifier, log } = deps;
  const allowedOrigins = new Set(deps.corsOrigins);
  const deadlineMs = deps.deadlineMs ?? 5_000;
  const now = deps.now ?? Date.now;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false, // the hub holds the sockets
    perMessageDeflate: false,
    maxPayload: deps.maxPayloadBytes ?? 1024,
    // Only a browser's `bearer, <token>` offer asks for a subprotocol; answering `bearer` completes its handshake.
    handleProtocols: (protocols) => (protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false),
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const swallow = (e: Error): void => log.debug({ err: e, reqId: requestId }, 'live upgrade socket error');
    socket.on('error', swallow);
    admit(req, requestId).then(
      ({ caller, audience }) => {
        if (socket.destroyed) return; // the client gave up while we checked
        socket.off('error', swallow);
        wss.handleUpgrade(req, socket, head, (ws) => attach(ws, caller, audience, requestId));
      },
      (error: unknown) => refuse(socket, error, requestId, log),
    );
  };

  const admit = async (req: IncomingMessage, requestId: string): Promise<{ caller: Caller; audience: LiveAudience }> => {
    const path = new URL(req.url ?? '/', 'http://live.invalid').pathname;
    if (path !== LIVE_PATH) throw new NotFoundError(`No WebSocket is served at ${path}.`);
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) throw new ForbiddenError('This origin may not open the live connection.');
    const caller = await authenticate(bearerOf(req), LIVE_ROLES, verifier);
    if (!caller) throw new UnauthenticatedError('missing', 'This route needs a bearer token.'); // LIVE_ROLES is never 'public'
    const audience = await gateway.ask('live-hub', 'admit', { caller }, { deadlineMs });
    if (!audience) throw new UnauthenticatedError('invalid', 'The account of this token no longer exists.');
    log.debug({ reqId: requestId, userId: caller.userId }, 'live connection admitted');
    return { caller, audience };
  };

  const attach = (ws: WebSocket, caller: Caller, audience: LiveAudience, requestId: string): void => {
    ws.on('message', () => undefined); // clients have nothing to say; maxPayload bounds what they can send
    // The connection lives no longer than its token: after a logout or a role change, at most one token lifetime.
    if (caller.expiresAt !== undefined) {
      const timer = setTimeout(() => ws.close(LIVE_CLOSE.TOKEN_EXPIRED, 'token expired'), Math.max(0, caller.expiresAt - now()));
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
    gateway.ask('live-hub', 'attach', { socket: ws, audience, sessionId: caller.sessionId }, { deadlineMs }).catch((e: unknown) => {
      log.warn({ err: e, reqId: requestId, userId: caller.userId }, 'live connection not attached');
      ws.close(1013, 'try again later');
    });
  };

  server.on('upgrade', onUpgrade);
  return {
    close() {
      server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}

/** The Authorization header, or the token of a `bearer, <token>` subprotocol offer, as an Authorization value. */
function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header) return header;
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const at = offered.indexOf(BEARER_SUBPROTOCOL);
  const token = at >= 0 ? offered[at + 1] : undefined;
  return token ? `Bearer ${token}` : undefined;
}

/** Answers the upgrade request with a problem response and closes the connection: no WebSocket. */
function refuse(socket: Duplex, error: unknown, requestId: string, log: Logger): void {
  const problem = toProblem(error, requestId);
  if (problem.unexpected) log.error({ err: error, reqId: requestId }, 'live upgrade failed');
  if (socket.destroyed) return;
  const body = JSON.stringify(problem.body);
  const headers: Record<string, string> = {
    ...problem.headers,
    'Content-Type': 'application/problem+json',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Request-Id': requestId,
    Connection: 'close',
  };
  const head = [`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  socket.once('finish', () => socket.destroy());
  socket.end(`${head}\r\n\r\n${body}`);
}
