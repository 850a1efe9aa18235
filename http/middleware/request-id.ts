// Gives each request an id (a well-formed incoming X-Request-Id, else a new UUID) and a logger bound to it.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../src/logger.js';
import type { HttpMiddleware } from '../http-state.js';

/** What an upstream id may look like: enough to correlate, nothing that could inject into logs or headers. */
export const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

export function requestId(log: Logger): HttpMiddleware {
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const id = INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.state.log = log.child({ reqId: id });
    ctx.set('X-Request-Id', id);
    await next();
  };
}
