import { describe, expect, it } from 'vitest';
import { bcryptPinHasher } from '../../../src/accounts/pin-hasher.js';

describe('bcrypt PIN hasher', () => {
  const hasher = bcryptPinHasher(4);

  it('verifies the hashes the old system stored ($2a$, $2b$ and $2y$ spellings)', async () => {
    // One hash, spelt with each prefix bcrypt implementations write (Python and Node: $2b$, older: $2a$, PHP: $2y$).
    const b = await hasher.hash('4821');
    for (const prefix of ['$2a$', '$2b$', '$2y$']) expect(await hasher.verify('4821', prefix + b.slice(4))).toBe(true);
    expect(await hasher.verify('4822', b)).toBe(false);
  });

  it('treats a malformed stored hash as a wrong PIN, never as an error', async () => {
    expect(await hasher.verify('4821', 'not-a-hash')).toBe(false);
    expect(await hasher.verify('4821', '')).toBe(false);
  });

  it('counts its work', async () => {
    const before = { ...hasher.counts };
    await hasher.verify('1', await hasher.dummy);
    expect(hasher.counts.verify).toBe(before.verify + 1);
  });
});
