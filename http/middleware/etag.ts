// Weak ETags on successful GET responses, answering 304 when the client already holds them (mobile data costs money).
import { hash } from 'node:crypto';
import { Stream } from 'node:stream';
import type { HttpMiddleware } from '../http-state.js';

export function etag(): HttpMiddleware {
  return async (ctx, next) => {
    await next();
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.status !== 200 || ctx.response.get('ETag')) return;
    const body: unknown = ctx.body;
    let bytes: string | Buffer;
    if (typeof body === 'string' || Buffer.isBuffer(body)) bytes = body;
    else if (body !== null && typeof body === 'object' && !(body instanceof Stream) && !(body instanceof ReadableStream)) {
      // Serialise once here (Koa keeps the JSON content type) rather than again when responding.
      bytes = JSON.stringify(body);
      ctx.body = bytes;
    } else return;
    const tag = `W/"${hash('sha1', bytes, 'base64url')}"`;
    ctx.set('ETag', tag);
    if (matchesIfNoneMatch(ctx.get('If-None-Match'), tag)) ctx.status = 304;
  };
}

/**
 * RFC 9110 §13.1.2 weak comparison. Not ctx.fresh: that refuses whenever the request says
 * Cache-Control: no-cache, which fetch() adds to every conditional request, yet the origin is the validator.
 */
function matchesIfNoneMatch(header: string, tag: string): boolean {
  if (!header) return false;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return header.trim() === '*' || header.split(',').some((t) => opaque(t) === opaque(tag));
}
