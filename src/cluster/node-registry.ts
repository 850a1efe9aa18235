// The node registry (migration 0013): each process's incarnation and heartbeat in PostgreSQL, the one source of
// liveness in the cluster. A process registers at start, renews `alive_until` every NODE_HEARTBEAT_MS (always with
// the database's clock: hosts' clocks never matter) and marks itself stopped when it ends gracefully. Another
// process reads "alive" as: registered, not stopped, `alive_until` in the future — `holderAlive` is that rule as
// SQL, written once for every statement that applies it (the batch claim, the job reaper).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { PgHandle } from '../contracts/postgres.js';

/** Who this process is: its node id (NODE_ID) and the incarnation that changes at every start. */
export interface NodeIdentity {
  readonly nodeId: string;
  readonly incarnation: string;
  readonly role: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: Date;
}

export function newNodeIdentity(nodeId: string, role: string): NodeIdentity {
  return { nodeId, incarnation: randomUUID(), role, host: hostname(), pid: process.pid, startedAt: new Date() };
}

/** One node as the registry has it. */
export interface NodeRow {
  readonly nodeId: string;
  readonly incarnation: string;
  readonly role: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  readonly aliveUntil: Date;
  readonly stoppedAt: Date | null;
  /** Alive now, by the database's clock (the rule of holderAlive). */
  readonly alive: boolean;
}

/**
 * SQL: the process holding `incarnation` (an expression, e.g. `b.holder`) is alive now. A holder that is not
 * registered (its row replaced by a restart under the same node id, or purged) is not alive.
 */
export const holderAlive = (incarnation: string): string =>
  `EXISTS (SELECT 1 FROM nodes n WHERE n.incarnation = ${incarnation} AND n.stopped_at IS NULL AND n.alive_until > now())`;

/** `alive_until` from now: the database's clock plus the given ms. */
const aliveUntil = (param: string): string => `now() + ${param}::integer * interval '1 millisecond'`;

/**
 * Registers this incarnation under its node id (replacing an earlier incarnation's row: the claims it held are
 * no longer alive) with `aliveForMs` to live. Returns the incarnation the row held before, if another.
 */
export async function registerNode(db: PgHandle, id: NodeIdentity, aliveForMs: number): Promise<string | undefined> {
  const { rows } = await db.query<{ previous: string | null }>(
    `WITH previous AS (SELECT incarnation FROM nodes WHERE node_id = $1)
     INSERT INTO nodes (node_id, incarnation, role, host, pid, started_at, heartbeat_at, alive_until, stopped_at)
     VALUES ($1, $2, $3, $4, $5, $6, now(), ${aliveUntil('$7')}, NULL)
     ON CONFLICT (node_id) DO UPDATE SET incarnation = EXCLUDED.incarnation, role = EXCLUDED.role, host = EXCLUDED.host,
       pid = EXCLUDED.pid, started_at = EXCLUDED.started_at, heartbeat_at = now(), alive_until = EXCLUDED.alive_until, stopped_at = NULL
     RETURNING (SELECT incarnation FROM previous) AS previous`,
    [id.nodeId, id.incarnation, id.role, id.host, id.pid, id.startedAt, aliveForMs],
  );
  const previous = rows[0]?.previous ?? undefined;
  return previous !== undefined && previous !== id.incarnation ? previous : undefined;
}

/**
 * Renews this incarnation's heartbeat. False when its row is not this incarnation's any more (another process
 * started under the same node id, or the row was purged): the caller registers again and says so.
 */
export async function heartbeat(db: PgHandle, id: NodeIdentity, aliveForMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE nodes SET heartbeat_at = now(), alive_until = ${aliveUntil('$3')} WHERE node_id = $1 AND incarnation = $2 AND stopped_at IS NULL`,
    [id.nodeId, id.incarnation, aliveForMs],
  );
  return rowCount === 1;
}

/** A graceful stop: this incarnation is no longer alive, so anything it still holds is taken over at once. */
export async function stopNode(db: PgHandle, id: NodeIdentity): Promise<void> {
  await db.query(`UPDATE nodes SET stopped_at = now(), alive_until = now() WHERE node_id = $1 AND incarnation = $2`, [id.nodeId, id.incarnation]);
}

/** Every registered node, alive ones first, then by node id. */
export async function listNodes(db: PgHandle): Promise<NodeRow[]> {
  const { rows } = await db.query<{
    node_id: string;
    incarnation: string;
    role: string;
    host: string;
    pid: number;
    started_at: Date;
    heartbeat_at: Date;
    alive_until: Date;
    stopped_at: Date | null;
    alive: boolean;
  }>(
    `SELECT node_id, incarnation, role, host, pid, started_at, heartbeat_at, alive_until, stopped_at, ${holderAlive('nodes.incarnation')} AS alive
       FROM nodes ORDER BY 10 DESC, node_id`,
  );
  return rows.map((r) => ({
    nodeId: r.node_id,
    incarnation: r.incarnation,
    role: r.role,
    host: r.host,
    pid: r.pid,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    aliveUntil: r.alive_until,
    stoppedAt: r.stopped_at,
    alive: r.alive,
  }));
}
