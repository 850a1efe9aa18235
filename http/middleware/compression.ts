// Response compression (koa-compress), entered only when the client named encodings it accepts.
import compress from 'koa-compress';
import type { HttpMiddleware } from '../http-state.js';

/**
 * With no Accept-Encoding koa-compress answers identity anyway (its default encoding), yet its negotiation runs on
 * every response: a client that sends none gets the same answer, and the same `Vary`, without it.
 */
export function compression(options: compress.CompressOptions): HttpMiddleware {
  const negotiated = compress(options) as HttpMiddleware;
  return (ctx, next) => {
    if (ctx.request.headers['accept-encoding']) return negotiated(ctx, next);
    ctx.vary('Accept-Encoding');
    return next();
  };
}
