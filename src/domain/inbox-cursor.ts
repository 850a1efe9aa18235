// The inbox's paging: page sizes, and the opaque cursor (base64url of "<created_at in µs>:<item id>", the last item's
// position in (created_at DESC, id DESC) order; microseconds, not a JS Date, so nothing is lost against timestamptz).

/** Page sizes of the inbox list (the `limit` query parameter). */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface InboxCursor {
  /** created_at as microseconds since the epoch (decimal string: exact, beyond 2^53 if need be). */
  readonly atMicros: string;
  /** The item id (bigint, decimal string). */
  readonly id: string;
}

const SHAPE = /^(-?[0-9]{1,18}):([1-9][0-9]{0,18})$/;

export function encodeCursor(c: InboxCursor): string {
  return Buffer.from(`${c.atMicros}:${c.id}`, 'utf8').toString('base64url');
}

/** The cursor, or undefined when the text is not one this API issued. */
export function decodeCursor(text: string): InboxCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) return undefined;
  const m = SHAPE.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!m) return undefined;
  // bigint range: ids come from a sequence, never above 2^63 - 1.
  if (BigInt(m[2]!) > 9_223_372_036_854_775_807n) return undefined;
  return { atMicros: m[1]!, id: m[2]! };
}
