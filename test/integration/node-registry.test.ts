// The node registry (src/cluster/node-registry.ts, actor node-registry) against the real PostgreSQL: a node registers
// its incarnation at start and renews its heartbeat (the database's clock), is alive while it does, and is gone once
// it stops (marked at once) or its heartbeat expires; a restart under the same node id replaces the incarnation, so
// the old one's claims are no longer a live holder's.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartbeat, holderAlive, listNodes, newNodeIdentity, registerNode, stopNode } from '../../src/cluster/node-registry.js';
import { poolHandle } from '../../src/db/pg-handle.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let sql: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

const row = async (nodeId: string) =>
  (
    await sql.query<{ incarnation: string; role: string; heartbeat_at: Date; stopped_at: Date | null; alive: boolean }>(
      `SELECT incarnation, role, heartbeat_at, stopped_at, ${holderAlive('nodes.incarnation')} AS alive FROM nodes WHERE node_id = $1`,
      [nodeId],
    )
  ).rows[0];

describe('node registry', () => {
  it('registers a running node, renews its heartbeat, and marks it stopped (not alive) when it stops', async () => {
    const node = await startTestNode({ DATABASE_URL: db.url, ROLE: 'api', NODE_ID: 'api-registry-1', NODE_HEARTBEAT_MS: '200', NODE_STALE_AFTER_MS: '1000', REDIS_URL: undefined });
    try {
      await waitFor('registered', async () => (await row('api-registry-1'))?.alive === true, 20_000);
      const first = (await row('api-registry-1'))!;
      expect(first.role).toBe('api');
      await waitFor('heartbeat renewed', async () => (await row('api-registry-1'))!.heartbeat_at > first.heartbeat_at, 10_000);
      expect((await row('api-registry-1'))!.incarnation).toBe(first.incarnation); // the same process, the same incarnation
    } finally {
      await node.stop();
    }
    const stopped = (await row('api-registry-1'))!;
    expect(stopped.stopped_at).not.toBeNull();
    expect(stopped.alive).toBe(false);
  });

  it('takes a node whose heartbeat expired for gone, and a restart under the same id replaces its incarnation', async () => {
    const handle = poolHandle(sql);
    const old = newNodeIdentity('worker-registry-1', 'worker');
    expect(await registerNode(handle, old, 60_000)).toBeUndefined();
    expect(await heartbeat(handle, old, 300)).toBe(true);
    expect((await row('worker-registry-1'))!.alive).toBe(true);
    await waitFor('heartbeat expired', async () => (await row('worker-registry-1'))!.alive === false, 10_000);

    // The same node id, a new process: the old incarnation is not a live holder any more, whatever it writes.
    const restarted = newNodeIdentity('worker-registry-1', 'worker');
    expect(await registerNode(handle, restarted, 60_000)).toBe(old.incarnation);
    expect(await heartbeat(handle, old, 60_000)).toBe(false);
    const alive = async (incarnation: string) => (await sql.query<{ alive: boolean }>(`SELECT ${holderAlive('$1::uuid')} AS alive`, [incarnation])).rows[0]!.alive;
    expect(await alive(old.incarnation)).toBe(false);
    expect(await alive(restarted.incarnation)).toBe(true);

    await stopNode(handle, restarted);
    expect(await alive(restarted.incarnation)).toBe(false);
    const listed = (await listNodes(handle)).find((n) => n.nodeId === 'worker-registry-1')!;
    expect(listed).toMatchObject({ incarnation: restarted.incarnation, role: 'worker', alive: false });
    expect(listed.stoppedAt).toBeInstanceOf(Date);
  });
});
