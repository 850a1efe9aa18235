// The node registry (migration 0013): each process's incarnation and heartbeat in PostgreSQL, the one source of
// liveness in the cluster. A process registers at start, renews `alive_until` every NODE_HEARTBEAT_MS (always with
// the database's clock: hosts' clocks never matter) and marks itself stopped when it ends gracefully. Another
// process reads "alive" as: registered, not stopped, `alive_until` in the future — `holderAlive` is that rule as
// SQL, written once for every statement that applies it (the batch claim, the job reaper).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';

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
export interface NodeRow extends NodeIdentity {
  readonly heartbeatAt: Date;
  readonly aliveUntil: Date;
  readonly stoppedAt: Date | null;
  /** Alive now, by the database's clock (the rule of holderAlive). */
  readonly alive: boolean;
}

/**
 * SQL: the process holding `incarnation` (an expression, e.g. `b.holder`) is alive now. A holder that is not
 * registered (its row purged) is not alive. (Its own alias is `holder_node`: don't pass an expression naming that.)
 */
export const holderAlive = (incarnation: string): string =>
  `EXISTS (SELECT 1 FROM nodes holder_node WHERE holder_node.incarnation = ${incarnation} AND holder_node.stopped_at IS NULL AND holder_node.alive_until > now())`;

/** `alive_until` from now: the database's clock plus the given ms. */
const aliveUntil = (param: string): string => `now() + ${param}::integer * interval '1 millisecond'`;

/**
 * Registers this incarnation with `aliveForMs` to live (again, should its row have been purged). Returns how many
 * other incarnations under the same node id are alive: more than zero means two processes were given one NODE_ID
 * (each stays alive on its own; only logs and the operations view would confuse them).
 */
export async function registerNode(db: PgHandle, id: NodeIdentity, aliveForMs: number): Promise<number> {
  const { rows } = await db.query<{ twins: number }>(
    `WITH registered AS (
       INSERT INTO nodes (incarnation, node_id, role, host, pid, started_at, heartbeat_at, alive_until, stopped_at)
       VALUES ($2, $1, $3, $4, $5, $6, now(), ${aliveUntil('$7')}, NULL)
       ON CONFLICT (incarnation) DO UPDATE SET heartbeat_at = now(), alive_until = EXCLUDED.alive_until WHERE nodes.stopped_at IS NULL
       RETURNING 1)
     SELECT count(*)::int AS twins FROM nodes n WHERE n.node_id = $1 AND n.incarnation <> $2 AND ${holderAlive('n.incarnation')}`,
    [id.nodeId, id.incarnation, id.role, id.host, id.pid, id.startedAt, aliveForMs],
  );
  return rows[0]?.twins ?? 0;
}

/** Renews this incarnation's heartbeat. False when its row is gone (purged while this process was cut off). */
export async function heartbeat(db: PgHandle, id: NodeIdentity, aliveForMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE nodes SET heartbeat_at = now(), alive_until = ${aliveUntil('$2')} WHERE incarnation = $1 AND stopped_at IS NULL`,
    [id.incarnation, aliveForMs],
  );
  return rowCount === 1;
}

/** A graceful stop: this incarnation is no longer alive, so anything it still holds is taken over at once. */
export async function stopNode(db: PgHandle, id: NodeIdentity): Promise<void> {
  await db.query(`UPDATE nodes SET stopped_at = now(), alive_until = now() WHERE incarnation = $1`, [id.incarnation]);
}

/** Every registered incarnation, alive ones first, then by node id and start. */
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
       FROM nodes ORDER BY 10 DESC, node_id, started_at DESC`,
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
