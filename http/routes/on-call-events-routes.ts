// GET /admin/events: the on-call dashboard's live feed, a text/event-stream read with fetch (so the Authorization
// header is carried and no token ever sits in a URL). One query into the actor system per push: the on-call actor's
// snapshot.
import { PassThrough } from 'node:stream';
import type { Gateway } from '../../src/contracts/gateway.js';
import { errorCode } from '../../src/errors/app-error.js';
import { ROUTE_DEADLINES_MS } from '../deadlines.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export interface OnCallEventsDeps {
  readonly gateway: Gateway;
  /** How often a snapshot is pushed (ADMIN_EVENTS_INTERVAL_MS). */
  readonly adminEventsIntervalMs?: number;
  /** Aborted when the process starts stopping: open streams end with `closing` rather than hold the shutdown. */
  readonly shutdown?: AbortSignal;
}

const DEFAULT_INTERVAL_MS = 3_000;
/** How long a stream told `closing` has to take it before its socket is closed. */
const CLOSING_GRACE_MS = 1_000;

/** One server-sent event: its name and a JSON payload on one `data:` line (JSON has no raw newline). */
export function serverSentEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function onCallEventsRoutes(deps: OnCallEventsDeps): RouteDefinition[] {
  const intervalMs = deps.adminEventsIntervalMs ?? DEFAULT_INTERVAL_MS;
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/events',
      summary: "The on-call dashboard's live feed: a snapshot of the cluster every few seconds (text/event-stream).",
      description:
        'Events: `snapshot` (nodes and their trees, queues, FCM outcomes per minute, readiness, recent jobs, dead letters; ' +
        'each part `{ok, value}` or `{ok: false, error}`), `unavailable` (the snapshot could not be gathered this time; ' +
        'the stream goes on), `expired` (the access token expired: the stream ends, reconnect with a fresh one) and ' +
        '`closing` (this instance is shutting down: the stream ends, reconnect). ' +
        'Read it with fetch and the Authorization header; EventSource cannot send one.',
      auth: ['admin'],
      responses: { 200: { description: 'The event stream.', contentType: 'text/event-stream' } },
      handler(ctx, _input, caller) {
        const stream = new PassThrough();
        let open = true;
        let wake: (() => void) | undefined;
        const close = (): void => {
          open = false;
          wake?.();
        };
        ctx.res.once('close', close);
        const closing = (): void => {
          if (open) stream.write(serverSentEvent('closing', {}));
          close();
          // The connection closes with the stream (its keep-alive was agreed with the headers, and an idle connection
          // left after it would hold the server's close). A client that stopped reading (gone without closing its
          // socket) would keep the response from finishing: it gets a moment for the last event, then its socket closes.
          const socket = ctx.req.socket;
          ctx.res.once('finish', () => socket.end());
          setTimeout(() => socket.destroy(), CLOSING_GRACE_MS).unref();
        };
        deps.shutdown?.addEventListener('abort', closing, { once: true });
        if (deps.shutdown?.aborted) closing();
        // Compression would hold events back in zlib's buffer; proxies are asked not to buffer either.
        ctx.compress = false;
        ctx.set('Cache-Control', 'no-store');
        ctx.set('X-Accel-Buffering', 'no');
        ctx.type = 'text/event-stream; charset=utf-8';
        ctx.body = stream;
        stream.write(': on-call events\n\n');
        const sleep = (ms: number): Promise<void> =>
          new Promise((resolve) => {
            const t = setTimeout(resolve, ms);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
        void (async () => {
          while (open) {
            // The token authorises this stream until it expires; the page reconnects with its refreshed one.
            if (caller.expiresAt !== undefined && Date.now() >= caller.expiresAt) {
              stream.write(serverSentEvent('expired', {}));
              break;
            }
            try {
              const snapshot = await deps.gateway.ask('on-call', 'snapshot', {}, { deadlineMs: ROUTE_DEADLINES_MS.onCallSnapshot });
              // A client still behind on the last one skips this one: memory stays bounded by one snapshot per stream.
              if (open && !stream.writableNeedDrain) stream.write(serverSentEvent('snapshot', snapshot));
            } catch (e) {
              if (open) stream.write(serverSentEvent('unavailable', { code: errorCode(e) ?? 'INTERNAL', at: new Date().toISOString() }));
            }
            if (!open) break;
            await sleep(caller.expiresAt === undefined ? intervalMs : Math.max(0, Math.min(intervalMs, caller.expiresAt - Date.now())));
          }
          ctx.res.off('close', close);
          deps.shutdown?.removeEventListener('abort', closing);
          stream.end();
        })();
      },
    }),
  ];
}
