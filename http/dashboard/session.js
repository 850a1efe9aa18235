// The admin's session: signs in through the agent login (LDAP), keeps the token pair in memory only (a reload signs
// in again: nothing is written to storage, cookies or URLs), and refreshes it with the refresh token before expiry.

/** How long before the access token's expiry it is refreshed (or at a fifth of its life, if that is sooner). */
const REFRESH_AHEAD_MS = 60_000;

export class Session {
  #tokens = null;
  #timer = undefined;
  #refreshing = null;
  #onEnded;

  /** `onEnded(reason)` runs once the session cannot go on (refresh refused): the page asks to sign in again. */
  constructor(onEnded) {
    this.#onEnded = onEnded;
  }

  get signedIn() {
    return this.#tokens !== null;
  }

  /** Signs in; rejects with an Error whose message is the problem's detail. */
  async signIn(login, password) {
    const res = await fetch('/v1/auth/agent-login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login, password, deviceModel: 'On-call dashboard', platform: 'web' }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.detail || `Sign-in failed (${res.status}).`);
    if (body.user?.role !== 'admin') {
      // Signed in, but not an admin: end that session at once rather than keep a token the page cannot use.
      await fetch('/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${body.accessToken}` } }).catch(() => undefined);
      throw new Error('This dashboard is for admins; your account is not one.');
    }
    this.#keep(body);
    return body.user;
  }

  /** Ends the session on the server too, then forgets it. */
  async signOut() {
    const token = this.#tokens?.accessToken;
    this.#forget();
    if (token) await fetch('/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  }

  /** The current access token (after a refresh when it is about to expire). */
  async accessToken() {
    if (!this.#tokens) throw new Error('Not signed in.');
    if (Date.now() >= this.#tokens.refreshAt) await this.refresh();
    return this.#tokens.accessToken;
  }

  /** fetch with the bearer token; one refresh and retry on a 401. */
  async fetch(path, init = {}) {
    const send = async () => fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${await this.accessToken()}` } });
    let res = await send();
    if (res.status === 401 && this.#tokens) {
      await this.refresh();
      res = await send();
    }
    return res;
  }

  /** Trades the refresh token for a new pair (concurrent callers share one exchange). */
  refresh() {
    this.#refreshing ??= this.#exchange().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async #exchange() {
    const refreshToken = this.#tokens?.refreshToken;
    if (!refreshToken) throw new Error('Not signed in.');
    const res = await fetch('/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) });
    const body = await res.json().catch(() => ({}));
    if (res.ok) return this.#keep(body);
    // 503 (directory away) leaves the session as it is: the same refresh token is tried again shortly.
    if (res.status >= 500) {
      this.#schedule(10_000);
      throw new Error(body.detail || `Refresh failed (${res.status}).`);
    }
    this.#forget();
    this.#onEnded(body.detail || 'Your session ended; sign in again.');
    throw new Error('Session ended.');
  }

  #keep(pair) {
    const lifeMs = pair.expiresIn * 1000;
    const aheadMs = Math.min(REFRESH_AHEAD_MS, lifeMs / 5);
    this.#tokens = { accessToken: pair.accessToken, refreshToken: pair.refreshToken, refreshAt: Date.now() + lifeMs - aheadMs };
    this.#schedule(lifeMs - aheadMs);
  }

  #schedule(ms) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.refresh().catch(() => undefined), ms);
  }

  #forget() {
    clearTimeout(this.#timer);
    this.#tokens = null;
  }
}
