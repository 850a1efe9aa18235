// The operations audit (migration 0021): one row for each on-call action taken through the admin API — who, when,
// what on which target and node, why, and how it ended. Every feature that acts for on-call records through here.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';

/** Who acted: the admin's user id and role (and login when the caller knows it). */
export interface OperationActor {
  readonly userId: string;
  readonly role: string;
  readonly login?: string;
}

export interface Operation {
  readonly actor: OperationActor;
  /** What was done, dotted: `supervisor.restart`, `queue.pause`, `dead-letters.replay` … */
  readonly action: string;
  /** On what: a supervisor's or a queue's name, `all` … */
  readonly target: string;
  /** The node addressed, when one was (absent: every node concerned). */
  readonly node?: string;
  /** Why, as on-call wrote it. */
  readonly reason: string;
  /** How it ended: `ok`, `partial`, `failed`, `timeout` … */
  readonly outcome: string;
  /** Each node's answer and anything else worth keeping (JSON). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface OperationRow extends Operation {
  readonly id: string;
  readonly at: Date;
}

/** Appends one audit row; resolves with its id and the database's time. */
export async function recordOperation(db: PgHandle, op: Operation): Promise<{ id: string; at: Date }> {
  const { rows } = await db.query<{ id: string; at: Date }>(
    `INSERT INTO operations_audit (actor_user_id, actor_role, actor_login, action, target, node, reason, outcome, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING id::text AS id, at`,
    [op.actor.userId, op.actor.role, op.actor.login ?? null, op.action, op.target, op.node ?? null, op.reason, op.outcome, JSON.stringify(op.detail ?? {})],
  );
  return rows[0]!;
}

/** The most recent audit rows, newest first (optionally of one action). */
export async function recentOperations(db: PgHandle, options: { action?: string; limit?: number } = {}): Promise<OperationRow[]> {
  const { rows } = await db.query<{
    id: string;
    at: Date;
    actor_user_id: string;
    actor_role: string;
    actor_login: string | null;
    action: string;
    target: string;
    node: string | null;
    reason: string;
    outcome: string;
    detail: Record<string, unknown>;
  }>(
    `SELECT id::text AS id, at, actor_user_id, actor_role, actor_login, action, target, node, reason, outcome, detail
       FROM operations_audit WHERE ($1::text IS NULL OR action = $1) ORDER BY at DESC, id DESC LIMIT $2`,
    [options.action ?? null, options.limit ?? 50],
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: { userId: r.actor_user_id, role: r.actor_role, ...(r.actor_login ? { login: r.actor_login } : {}) },
    action: r.action,
    target: r.target,
    ...(r.node ? { node: r.node } : {}),
    reason: r.reason,
    outcome: r.outcome,
    detail: r.detail,
  }));
}
