// The node registry (src/cluster/node-registry.ts, actor node-registry) against the real PostgreSQL: a node registers
// its incarnation at start and renews its heartbeat (the database's clock), is alive while it does, and is gone once
// it stops (marked at once) or its heartbeat expires; every process start is its own incarnation, so a restart under
// the same node id never passes for the old process, and two processes given one NODE_ID never make each other gone.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartbeat, holderAlive, listNodes, newNodeIdentity, registerNode, stopNode } from '../../src/cluster/node-registry.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
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
      `SELECT incarnation, role, heartbeat_at, stopped_at, ${holderAlive('nodes.incarnation')} AS alive FROM nodes WHERE node_id = $1 ORDER BY started_at DESC LIMIT 1`,
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
      // A restart of the tree (on-call) is not the process stopping: no stop mark, the node stays alive throughout.
      const stopMarks: unknown[] = [];
      const watch = setInterval(() => void row('api-registry-1').then((r) => r?.stopped_at && stopMarks.push(r.stopped_at)), 20);
      try {
        await node.runtime.restartSupervisor(node.runtime.tree().name);
        await waitFor('registry running again', () => node.runtime.readiness('test').parts.find((p) => p.name === 'node-registry')?.state === 'running', 20_000);
        const beat = (await row('api-registry-1'))!.heartbeat_at;
        await waitFor('heartbeat renewed after the restart', async () => (await row('api-registry-1'))!.heartbeat_at > beat, 10_000);
      } finally {
        clearInterval(watch);
      }
      expect(stopMarks).toEqual([]);
      expect(await row('api-registry-1')).toMatchObject({ incarnation: first.incarnation, alive: true, stopped_at: null });
    } finally {
      await node.stop();
    }
    const stopped = (await row('api-registry-1'))!;
    expect(stopped.stopped_at).not.toBeNull();
    expect(stopped.alive).toBe(false);
  });

  it('takes a node whose heartbeat expired for gone; a restart, or a second process, under the same id is another incarnation', async () => {
    const handle = poolHandle(sql);
    const alive = async (incarnation: string) => (await sql.query<{ alive: boolean }>(`SELECT ${holderAlive('$1::uuid')} AS alive`, [incarnation])).rows[0]!.alive;
    const old = newNodeIdentity('worker-registry-1', 'worker');
    expect(await registerNode(handle, old, 60_000)).toBe(0);
    expect(await heartbeat(handle, old, 300)).toBe(true);
    expect(await alive(old.incarnation)).toBe(true);
    await waitFor('heartbeat expired', () => alive(old.incarnation).then((a) => !a), 10_000);

    // The same node id, a new process: the old incarnation stays gone whatever the new one does.
    const restarted = newNodeIdentity('worker-registry-1', 'worker');
    expect(await registerNode(handle, restarted, 60_000)).toBe(0); // the old one is not alive: no twin
    expect(await alive(old.incarnation)).toBe(false);
    expect(await alive(restarted.incarnation)).toBe(true);
    // Two live processes given one NODE_ID by mistake: both stay alive (neither's claims look abandoned), and it is told.
    const twin = newNodeIdentity('worker-registry-1', 'worker');
    expect(await registerNode(handle, twin, 60_000)).toBe(1);
    expect(await heartbeat(handle, restarted, 60_000)).toBe(true);
    expect([await alive(restarted.incarnation), await alive(twin.incarnation)]).toEqual([true, true]);

    await stopNode(handle, restarted);
    expect(await alive(restarted.incarnation)).toBe(false);
    expect(await heartbeat(handle, restarted, 60_000)).toBe(false); // stopped is final
    const listed = (await listNodes(handle)).filter((n) => n.nodeId === 'worker-registry-1');
    expect(listed.map((n) => [n.incarnation, n.alive])).toEqual([
      [twin.incarnation, true],
      [restarted.incarnation, false],
      [old.incarnation, false],
    ]);
    expect(listed[1]!.stoppedAt).toBeInstanceOf(Date);
  });
});
