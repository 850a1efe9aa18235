// Gives each request an id (a well-formed incoming X-Request-Id, else a new UUID) and a logger bound to it.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../src/logger.js';
import type { HttpMiddleware, HttpState } from '../http-state.js';

/** What an upstream id may look like: enough to correlate, nothing that could inject into logs or headers. */
export const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** A request's state: its logger is made on first use (most requests that log nothing never pay for a child). */
class RequestState implements HttpState {
  private child: Logger | undefined;
  constructor(
    readonly requestId: string,
    private readonly parent: Logger,
  ) {}
  get log(): Logger {
    return (this.child ??= this.parent.child({ reqId: this.requestId }));
  }
}

export function requestId(log: Logger): HttpMiddleware {
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const id = INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state = new RequestState(id, log);
    ctx.res.setHeader('X-Request-Id', id);
    await next();
  };
}
