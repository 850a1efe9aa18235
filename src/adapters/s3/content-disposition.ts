// The Content-Disposition a presigned download answers with: always an attachment, with a file name no client can misread.

/** Longest name kept (in characters): a header, not a file system, and some clients cut long headers. */
const MAX_NAME = 150;

/**
 * The name reduced to what every client reads the same: no path (either separator), no control characters, no
 * quotes or backslashes (which would end or escape the quoted string), no leading dots (a hidden or `..` file).
 */
function safeName(filename: string): string {
  const base = filename.split(/[/\\]/).pop() ?? '';
  // Control characters (CR and LF included: a header must never be split) become nothing; quotes and backslashes _.
  const cleaned = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '')
    .replace(/["\\]/g, '_')
    .trim()
    .replace(/^\.+/, '');
  return [...cleaned].slice(0, MAX_NAME).join('') || 'attachment';
}

/** RFC 8187 `value-chars`: what encodeURIComponent leaves alone but for the characters the RFC does not allow bare. */
function rfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): `filename` is a printable-ASCII fallback (anything else
 * becomes `_`) for old clients, `filename*` carries the exact name percent-encoded in UTF-8 for the others.
 */
export function attachmentDisposition(filename: string): string {
  const name = safeName(filename);
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${rfc8187(name)}`;
}
