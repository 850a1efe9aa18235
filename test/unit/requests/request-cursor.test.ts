// The requests list's cursor (src/domain/request-cursor.ts): what it encodes it decodes, and nothing else decodes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRequestCursor, encodeRequestCursor } from '../../../src/domain/request-cursor.js';

describe('request cursor', () => {
  it('decodes what it encoded', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 17n }), fc.uuid(), (micros, id) => {
        const c = { atMicros: micros.toString(), id };
        expect(decodeRequestCursor(encodeRequestCursor(c))).toEqual(c);
      }),
    );
  });

  it('refuses text it did not issue', () => {
    for (const t of ['', 'abc', Buffer.from('1:2').toString('base64url'), Buffer.from('x:6f7c1f7e-2a51-4b59-9e57-3f6b2ad0c1e4').toString('base64url'), 'a'.repeat(200)]) {
      expect(decodeRequestCursor(t)).toBeUndefined();
    }
  });
});
