// Remembers the tokens this process has verified until they expire, so a client's next requests skip the signature.
import { TOKEN_CLOCK_TOLERANCE_S, type Caller, type TokenVerifier } from './auth.js';

export interface VerifiedTokensOptions {
  /** The clock expiries are judged on (the verifier's own). */
  readonly now: () => number;
  /** Tokens remembered at most; the oldest is forgotten first. @defaultValue 10_000 */
  readonly maxEntries?: number;
}

/**
 * A token's signature, issuer, audience and claims never change, so once verified its caller holds until the token
 * expires (with the verifier's tolerance); a mobile client sends the same token for minutes. Only successes are
 * remembered, never a refusal. Wrap it INSIDE `refusingEndedSessions`: an ended session must still be refused on
 * every request, which this layer must not cache.
 */
export function rememberingVerifiedTokens(inner: TokenVerifier, options: VerifiedTokensOptions): TokenVerifier {
  const max = options.maxEntries ?? 10_000;
  // Map keeps insertion order: the first key is the oldest, forgotten first when full.
  const known = new Map<string, Caller & { readonly expiresAt: number }>();
  return {
    async verify(token) {
      const hit = known.get(token);
      if (hit !== undefined) {
        if (options.now() <= hit.expiresAt + TOKEN_CLOCK_TOLERANCE_S * 1000) return hit;
        known.delete(token);
      }
      const caller = await inner.verify(token);
      if (caller.expiresAt !== undefined) {
        if (known.size >= max) known.delete(known.keys().next().value as string);
        known.set(token, { ...caller, expiresAt: caller.expiresAt });
      }
      return caller;
    },
  };
}
