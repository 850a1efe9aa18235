// What the account operations are built from: the database, clock, hasher, token keys, policies and the outside calls.
import type { Clock } from '../clock.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { DirectoryAgent } from '../contracts/directory-messages.js';
import type { EndedSessions } from '../contracts/live-messages.js';
import type { SessionPolicy } from '../domain/session-policy.js';
import type { LimitedAction } from '../adapters/cache/ip-limiter.js';
import type { CodePolicy } from './one-time-codes.js';
import type { PinHasher } from './pin-hasher.js';
import type { AuthWatch } from './auth-watch.js';
import type { LockoutPolicy } from './pin-lockout.js';
import type { SigningKey } from './token-keys.js';

export interface AccountDeps {
  db(): Promise<PgHandle>;
  readonly clock: Clock;
  readonly hasher: PinHasher;
  readonly signing: SigningKey | undefined;
  readonly secret: Buffer;
  readonly issuer: string;
  readonly audience: string;
  readonly sessions: SessionPolicy;
  readonly codes: CodePolicy;
  readonly lockout: LockoutPolicy;
  /** Where abuse of the public routes is reported (SMS budgets, failed logins); read by /metrics. */
  readonly watch?: AuthWatch;
  /** Sends one SMS now; rejects with SMS_UNAVAILABLE when the gateway cannot take it. */
  sendSms(to: string, text: string): Promise<void>;
  /** Checks an agent's directory password; rejects with INVALID_CREDENTIALS or DIRECTORY_UNAVAILABLE. */
  authenticateAgent(login: string, password: string): Promise<DirectoryAgent>;
  /** The agent's directory entry now, without a password (null: no longer an agent); rejects with DIRECTORY_UNAVAILABLE. */
  lookupAgent(login: string): Promise<DirectoryAgent | null>;
  /** Per-client-IP limit of a public action; rejects with TOO_MANY_REQUESTS. */
  limit(action: LimitedAction, ip: string): Promise<void>;
  /** Reports an audit write that failed (the operation itself has already succeeded). */
  onAuditError?(error: unknown): void;
  /**
   * Sessions this service ended, after the commit: their access tokens are refused and their sockets closed on every
   * instance from now on (src/accounts/session-revocations.ts).
   */
  sessionsEnded(ended: EndedSessions): void;
  /**
   * Active meter links this service ended (account deletion), after the commit: every instance's link cache forgets
   * them (src/meters/link-cache.ts). @defaultValue nothing (no cache in this process)
   */
  linksEnded?(linkIds: readonly string[]): void;
}
