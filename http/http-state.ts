// What every request carries through the middleware: its id and its logger.
import type { Middleware, ParameterizedContext } from 'koa';
import type { Logger } from '../src/logger.js';

export interface HttpState {
  /** Echoed in X-Request-Id and in every problem body. */
  requestId: string;
  /** The process logger's child bound to this request's id. */
  log: Logger;
}

export type HttpContext = ParameterizedContext<HttpState>;
export type HttpMiddleware = Middleware<HttpState>;
