// Verified tokens remembered until they expire (http/verified-tokens.ts): the signature is checked once per token and
// process, refusals are never remembered, the memory is bounded, and ended sessions are still refused every time.
import { describe, expect, it } from 'vitest';
import { TOKEN_CLOCK_TOLERANCE_S, refusingEndedSessions, type Caller, type TokenVerifier } from '../../../http/auth.js';
import { UnauthenticatedError } from '../../../http/http-errors.js';
import { rememberingVerifiedTokens } from '../../../http/verified-tokens.js';

const EXPIRES = 1_000_000;

/** A verifier that counts its calls and accepts the tokens in `valid`, each expiring at EXPIRES. */
function countingVerifier(valid: Set<string>): TokenVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verify(token: string): Promise<Caller> {
      v.calls += 1;
      if (!valid.has(token)) throw new UnauthenticatedError('invalid', 'The token is not valid.');
      return { userId: `user-${token}`, role: 'customer', agency: null, sessionId: `s-${token}`, expiresAt: EXPIRES };
    },
  };
  return v;
}

describe('remembered token verification', () => {
  it('verifies a token once and answers its later requests with the same caller', async () => {
    const inner = countingVerifier(new Set(['a']));
    const verifier = rememberingVerifiedTokens(inner, { now: () => 0 });
    const first = await verifier.verify('a');
    expect(await verifier.verify('a')).toEqual(first);
    expect(await verifier.verify('a')).toEqual(first);
    expect(inner.calls).toBe(1);
  });

  it('forgets a token once it is past its expiry and the tolerance: it is verified again, and refused', async () => {
    let now = EXPIRES;
    const valid = new Set(['a']);
    const inner = countingVerifier(valid);
    const verifier = rememberingVerifiedTokens(inner, { now: () => now });
    await verifier.verify('a');
    now = EXPIRES + TOKEN_CLOCK_TOLERANCE_S * 1000;
    await verifier.verify('a');
    expect(inner.calls).toBe(1);
    now += 1;
    valid.delete('a'); // what jose says of an expired token
    await expect(verifier.verify('a')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(inner.calls).toBe(2);
  });

  it('never remembers a refusal', async () => {
    const valid = new Set<string>();
    const inner = countingVerifier(valid);
    const verifier = rememberingVerifiedTokens(inner, { now: () => 0 });
    await expect(verifier.verify('b')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(verifier.verify('b')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(inner.calls).toBe(2);
  });

  it('holds at most maxEntries tokens, forgetting the oldest first', async () => {
    const inner = countingVerifier(new Set(['a', 'b', 'c']));
    const verifier = rememberingVerifiedTokens(inner, { now: () => 0, maxEntries: 2 });
    for (const t of ['a', 'b', 'c']) await verifier.verify(t);
    expect(inner.calls).toBe(3);
    await verifier.verify('c');
    await verifier.verify('b');
    expect(inner.calls).toBe(3);
    await verifier.verify('a');
    expect(inner.calls).toBe(4);
  });

  it('inside refusingEndedSessions, a remembered token of a session that ended is refused at its next request', async () => {
    const ended = new Set<string>();
    const verifier = refusingEndedSessions(rememberingVerifiedTokens(countingVerifier(new Set(['a'])), { now: () => 0 }), async (sid) => ended.has(sid));
    expect(await verifier.verify('a')).toMatchObject({ userId: 'user-a' });
    ended.add('s-a');
    await expect(verifier.verify('a')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
