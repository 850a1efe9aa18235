// The requests list's paging: page sizes and the opaque cursor (base64url of "<created_at in µs>:<request uuid>", the
// last item's position in (created_at DESC, id DESC) order; microseconds, as the inbox's, so nothing is lost).

export const REQUESTS_DEFAULT_PAGE_SIZE = 20;
export const REQUESTS_MAX_PAGE_SIZE = 100;

export interface RequestCursor {
  /** created_at as microseconds since the epoch (decimal string). */
  readonly atMicros: string;
  /** The request's id (a uuid, lower case). */
  readonly id: string;
}

const SHAPE = /^(-?[0-9]{1,18}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeRequestCursor(c: RequestCursor): string {
  return Buffer.from(`${c.atMicros}:${c.id}`, 'utf8').toString('base64url');
}

/** The cursor, or undefined when the text is not one this API issued. */
export function decodeRequestCursor(text: string): RequestCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,96}$/.test(text)) return undefined;
  const m = SHAPE.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!m) return undefined;
  return { atMicros: m[1]!, id: m[2]! };
}
