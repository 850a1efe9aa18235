// The OAuth access token of the http2-session transport: fetched from the app's credential once, shared until
// shortly before it expires.
import type { Credential } from 'firebase-admin/app';

/** A cached access token is renewed this long before it expires (firebase-admin's own margin). */
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

export interface AccessTokenCache {
  get(): Promise<string>;
  /** Forgets the token (FCM refused it): the next get() fetches a new one. */
  invalidate(): void;
}

/** The credential's access token, fetched once and shared until TOKEN_REFRESH_MARGIN_MS before it expires. */
export function accessTokenCache(credential: Credential): AccessTokenCache {
  let cached: { token: string; renewAt: number } | undefined;
  let fetching: Promise<string> | undefined;
  return {
    get() {
      if (cached && Date.now() < cached.renewAt) return Promise.resolve(cached.token);
      fetching ??= credential
        .getAccessToken()
        .then((t) => {
          if (typeof t?.access_token !== 'string' || t.access_token.length === 0) throw new Error('the credential returned no access token');
          const lifetimeMs = Math.max(0, Number(t.expires_in) * 1000 || 0);
          // Short-lived tokens (tests) are renewed half-way rather than at once.
          cached = { token: t.access_token, renewAt: Date.now() + Math.max(lifetimeMs - TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2) };
          return t.access_token;
        })
        .finally(() => {
          fetching = undefined;
        });
      return fetching;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
