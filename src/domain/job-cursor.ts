// The opaque cursor of /admin/jobs: base64url of "<created_at in µs>:<job uuid>", the last job's position in
// (created_at DESC, id DESC) order.

export interface JobCursor {
  readonly atMicros: string;
  readonly id: string;
}

const SHAPE = /^(-?[0-9]{1,18}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeJobCursor(c: JobCursor): string {
  return Buffer.from(`${c.atMicros}:${c.id}`, 'utf8').toString('base64url');
}

/** The cursor, or undefined when the text is not one this API issued. */
export function decodeJobCursor(text: string): JobCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,96}$/.test(text)) return undefined;
  const m = SHAPE.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return m ? { atMicros: m[1]!, id: m[2]! } : undefined;
}
