// Reads a JSON request body for the routes that declare one, turning parser failures into typed errors.
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './http-errors.js';

/** Parses the body into ctx.request.body; undefined when the request carries no body (none, or Content-Length: 0). */
export type JsonBodyReader = (ctx: Context) => Promise<unknown>;

export function createJsonBodyReader(limit: string): JsonBodyReader {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: limit, jsonStrict: true, parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] });
  return async (ctx) => {
    // No body at all, or an empty one (curl -X POST sends none; fetch sends Content-Length: 0), whatever its type:
    // the route's schema then judges it as an empty object (http/route-input.ts).
    if (ctx.request.length === 0) return undefined;
    // Only application/json: other +json types would pass this check yet be left unparsed by the body parser.
    const type = ctx.request.is('application/json');
    if (type === null) return undefined;
    if (type === false) throw new UnsupportedMediaTypeError(`This route takes application/json, not ${ctx.request.type || 'an untyped body'}.`);
    // The parser decodes UTF-8 whatever the declared charset: refuse any other rather than garble it.
    const charset = ctx.request.charset.toLowerCase();
    if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8') throw new UnsupportedMediaTypeError(`This route takes UTF-8 JSON, not ${charset}.`);
    try {
      await parse(ctx, async () => {});
    } catch (e) {
      throw bodyError(e, limit);
    }
    return ctx.request.body;
  };
}

function bodyError(e: unknown, limit: string): unknown {
  const { type, status } = (e ?? {}) as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large') return new PayloadTooLargeError(limit);
  if (type === 'encoding.unsupported' || type === 'charset.unsupported' || status === 415) {
    return new UnsupportedMediaTypeError('The body uses an unsupported content encoding or charset.');
  }
  if (e instanceof SyntaxError || status === 400) return new MalformedJsonError('The body is not valid JSON (an object or an array).');
  // A body that does not decode with its Content-Encoding (zlib/brotli errors) is the client's fault too.
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_FORMAT') || code.startsWith('ERR_BROTLI'))) {
    return new MalformedJsonError('The body does not decode with its Content-Encoding.');
  }
  return e;
}
