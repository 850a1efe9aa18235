// How long sessions live: the lifetimes and directory re-check of device sessions, and the expiry a session gets at
// login or refresh. Pure (no I/O, no crypto), so the configuration can carry the defaults.

export interface SessionPolicy {
  /** @defaultValue 15 minutes */
  readonly accessTtlMs: number;
  /** Customers: sliding, every refresh pushes the expiry this far (never past customerMaxMs). @defaultValue 30 days */
  readonly refreshTtlMs: number;
  /** How long the previous refresh token still answers with the same new pair. @defaultValue 10 s */
  readonly graceMs: number;
  /** Customers: the absolute cap from the login that refreshing never extends. @defaultValue 180 days */
  readonly customerMaxMs: number;
  /** Agents and admins: the absolute lifetime from the login; refreshing never extends it. @defaultValue 12 hours */
  readonly agentMaxMs: number;
  /** Agents and admins: a refresh asks the directory again once the last check is this old. @defaultValue 1 hour */
  readonly directoryRecheckMs: number;
  /**
   * Agents and admins: while the directory cannot be reached, refreshing goes on this long past the last successful
   * check, then answers DIRECTORY_UNAVAILABLE (fail closed). @defaultValue 4 hours
   */
  readonly directoryGraceMs: number;
  /** Customers: live sessions at once; a login past it ends the least recently used. @defaultValue 2 */
  readonly maxActiveSessions: number;
  /** Agents and admins: the same limit, their own (config AGENT_MAX_SESSIONS). @defaultValue 5 */
  readonly agentMaxActiveSessions: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  accessTtlMs: 15 * 60_000,
  refreshTtlMs: 30 * 86_400_000,
  graceMs: 10_000,
  customerMaxMs: 180 * 86_400_000,
  agentMaxMs: 12 * 3_600_000,
  directoryRecheckMs: 3_600_000,
  directoryGraceMs: 4 * 3_600_000,
  maxActiveSessions: 2,
  agentMaxActiveSessions: 5,
};

/** How many live sessions one user of this kind may hold at once. */
export function sessionLimit(policy: SessionPolicy, kind: SessionKind): number {
  return kind === 'customer' ? policy.maxActiveSessions : policy.agentMaxActiveSessions;
}

/** Who a session is for: a customer's slides within its cap, an agent's (or admin's) does not slide at all. */
export type SessionKind = 'customer' | 'agent';

/** The expiry a session gets at login or at a refresh at `now`: sliding for customers, never past the absolute cap. */
export function sessionExpiry(policy: SessionPolicy, kind: SessionKind, now: number, absoluteExpiresAt: number): number {
  return kind === 'customer' ? Math.min(now + policy.refreshTtlMs, absoluteExpiresAt) : absoluteExpiresAt;
}
