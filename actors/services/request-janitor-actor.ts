// The request janitor: every interval, one pass of src/requests/request-janitor.ts outside the mailbox — orphaned
// uploads and attachments past their retention deleted from storage. An actor of its own (not a timer in the
// requests actor) so that storage or PostgreSQL being away is its state (backing-off until the next pass), never the
// requests actor's, and its passes never share a mailbox with customers' uploads.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { Reply } from '../../src/contracts/reply.js';
import { errorMessage, toError } from '../../src/errors/app-error.js';
import { sweepAttachments, type JanitorPolicy, type JanitorResult, type RequestDeps } from '../../src/requests/index.js';

export interface RequestJanitorOptions extends JanitorPolicy {
  /** Time between passes (REQUEST_JANITOR_INTERVAL_MS). */
  readonly intervalMs: number;
}

/**
 * `sweep`: run a pass now (tests, on-call); replies with what it did. `uploadAgeMs` overrides the configured sweep age
 * for this pass only (a test's orphan one second old), leaving the configured rule (src/config/requests.ts) whole.
 */
export type RequestJanitorMessage =
  | { type: 'tick' }
  | { type: 'swept'; result: JanitorResult; timed: boolean }
  | { type: 'failed'; error: unknown }
  | { type: 'sweep'; uploadAgeMs?: number; replyTo: Reply<JanitorResult> };

interface State {
  readonly deps: Pick<RequestDeps, 'db' | 'objects' | 'clock'>;
  totals: JanitorResult;
}

export function requestJanitorActor(deps: (ctx: ActorContext<RequestJanitorMessage>) => Pick<RequestDeps, 'db' | 'objects' | 'clock'>, options: RequestJanitorOptions): () => ActorBehaviour<State, RequestJanitorMessage> {
  const schedule = (ctx: ActorContext<RequestJanitorMessage>): void => {
    ctx.setTimer(() => ctx.self.tell({ type: 'tick' }), options.intervalMs);
  };
  return () => ({
    init(ctx) {
      schedule(ctx);
      ctx.setStatus('running');
      return { deps: deps(ctx), totals: { orphans: 0, expired: 0 } };
    },
    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'tick':
          sweepAttachments(s.deps, options).then(
            (result) => ctx.self.tell({ type: 'swept', result, timed: true }),
            (error: unknown) => ctx.self.tell({ type: 'failed', error }),
          );
          return s;
        case 'sweep':
          sweepAttachments(s.deps, msg.uploadAgeMs === undefined ? options : { ...options, uploadAgeMs: msg.uploadAgeMs }).then(
            (result) => {
              msg.replyTo.ok(result);
              ctx.self.tell({ type: 'swept', result, timed: false });
            },
            (error: unknown) => msg.replyTo.fail(toError(error)),
          );
          return s;
        case 'swept': {
          const r = msg.result;
          if (r.orphans + r.expired > 0) ctx.log.info(r, 'request attachments swept');
          s.totals = { orphans: s.totals.orphans + r.orphans, expired: s.totals.expired + r.expired };
          ctx.setStatus('running', `deleted ${s.totals.orphans} orphaned upload(s) and ${s.totals.expired} attachment(s) past retention`);
          // Only the timer's own pass re-arms the timer: a manual sweep must not add a second one.
          if (msg.timed) schedule(ctx);
          return s;
        }
        case 'failed':
          ctx.log.warn({ err: msg.error }, 'request janitor pass failed');
          ctx.setStatus('backing-off', `request janitor pass failed (${errorMessage(msg.error)}); next pass in ${options.intervalMs} ms`, msg.error);
          schedule(ctx);
          return s;
      }
    },
  });
}
