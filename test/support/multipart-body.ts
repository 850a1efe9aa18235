// Builds multipart/form-data bodies part by part, in any order, for the requests' tests (well formed or not).

export type Part = { readonly name: string; readonly value: string } | { readonly name: string; readonly filename: string; readonly type: string; readonly data: Buffer };

export const BOUNDARY = 'samaconso-test-boundary-7d1f';

/** The body of `parts` in their order, and the Content-Type that names its boundary. */
export function multipartBody(parts: readonly Part[], boundary = BOUNDARY): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = 'filename' in p ? `form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: ${p.type}` : `form-data; name="${p.name}"`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n`), 'filename' in p ? p.data : Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
