// The download's Content-Disposition: always an attachment, and no file name can break out of its header.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachmentDisposition } from '../../../src/adapters/s3/content-disposition.js';

/** The two names a client reads: the quoted ASCII fallback and the RFC 8187 UTF-8 one. */
function parse(header: string): { fallback: string; exact: string } {
  const m = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]*)$/.exec(header);
  if (!m) throw new Error(`not a well-formed attachment header: ${header}`);
  return { fallback: m[1]!, exact: decodeURIComponent(m[2]!) };
}

describe('attachmentDisposition', () => {
  it('keeps a plain name as it is, in both forms', () => {
    expect(attachmentDisposition('facture-2026.pdf')).toBe(`attachment; filename="facture-2026.pdf"; filename*=UTF-8''facture-2026.pdf`);
  });

  it('gives non-ASCII names exactly in filename* and an ASCII fallback with _ in filename', () => {
    expect(parse(attachmentDisposition('reçu électricité.pdf'))).toEqual({ fallback: 're_u _lectricit_.pdf', exact: 'reçu électricité.pdf' });
    expect(parse(attachmentDisposition('компteur 📷.jpg')).exact).toBe('компteur 📷.jpg');
  });

  it('cannot end the quoted string, escape out of it, or split the header', () => {
    const header = attachmentDisposition('a"; filename="evil.exe"\r\nSet-Cookie: x=1.pdf');
    expect(header).not.toMatch(/[\r\n]/);
    const { fallback, exact } = parse(header);
    expect(fallback).toBe('a_; filename=_evil.exe_Set-Cookie: x=1.pdf');
    expect(exact).toBe(fallback);
  });

  it('drops any path and leading dots, and names an empty result "attachment"', () => {
    expect(parse(attachmentDisposition('../../etc/passwd')).exact).toBe('passwd');
    expect(parse(attachmentDisposition('C:\\Users\\awa\\photo.png')).exact).toBe('photo.png');
    expect(parse(attachmentDisposition('.htaccess')).exact).toBe('htaccess');
    expect(parse(attachmentDisposition('..')).exact).toBe('attachment');
    expect(parse(attachmentDisposition('')).exact).toBe('attachment');
    expect(parse(attachmentDisposition('dir/')).exact).toBe('attachment');
  });

  it('keeps at most 150 characters, never cutting a character in half', () => {
    const { exact } = parse(attachmentDisposition(`${'é'.repeat(149)}📷📷`));
    expect([...exact]).toHaveLength(150);
    expect(exact.endsWith('📷')).toBe(true);
  });

  it('always gives a well-formed header, whatever the name (10,000 names)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 300 }), (name) => {
        const header = attachmentDisposition(name);
        const { fallback, exact } = parse(header);
        expect(exact.length).toBeGreaterThan(0);
        expect(exact).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
        expect(fallback).toMatch(/^[\x20-\x7e]+$/);
      }),
      { numRuns: 10_000 },
    );
  });
});
