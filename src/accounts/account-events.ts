// What an account operation reports once it has committed: a row in audit_log, and the sessions it ended.
import type { AccountDeps } from './account-deps.js';

/** Records a security event in audit_log (kept when the account is deleted); never fails the caller. */
export function audit(deps: AccountDeps, event: string, userId: string | null, details: Record<string, unknown>): void {
  deps
    .db()
    .then((db) => db.query(`INSERT INTO audit_log (at, user_id, event, details) VALUES ($1, $2, $3, $4)`, [new Date(deps.clock.now()), userId, event, details]))
    .catch((e: unknown) => deps.onAuditError?.(e));
}

/** Announces session ends once they are committed. */
export function announceEnded(deps: AccountDeps, userId: string, sessionIds: readonly string[]): void {
  if (sessionIds.length > 0) deps.sessionsEnded({ userId, sessionIds });
}
