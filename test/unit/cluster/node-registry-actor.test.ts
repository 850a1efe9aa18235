// The node-registry actor beats on the real clock, not the runtime's: liveness is judged against the database's
// clock, so a beat that failed (PostgreSQL still starting) is retried after NODE_HEARTBEAT_MS of real time even when
// the runtime runs on a manual clock that nobody advances (every test of a whole node on a ManualClock). A process
// shutting down marks its node stopped; a restart of the tree does not.
import { describe, expect, it } from 'vitest';
import { nodeRegistryActor } from '../../../actors/system/node-registry-actor.js';
import type { ActorBehaviour } from '../../../src/actor-behaviour.js';
import { newNodeIdentity } from '../../../src/cluster/node-registry.js';
import type { PgHandle, PostgresMessage } from '../../../src/adapters/postgres/postgres-messages.js';
import { ServiceUnavailableError } from '../../../src/errors/app-error.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import { testRuntime } from '../../support/supervision.js';
import { waitFor } from '../../support/wait.js';

/** A postgres stand-in: refuses the first `down` asks for the registry's handle, then records each statement. */
function fakePostgres(down: number): { behaviour: () => ActorBehaviour<null, PostgresMessage>; statements: string[] } {
  const statements: string[] = [];
  let refused = 0;
  const handle = {
    query: async (text: string) => {
      statements.push(text);
      return { rows: [{ twins: 0 }], rowCount: 1 };
    },
    transaction: () => Promise.reject(new Error('not used')),
  } as unknown as PgHandle;
  return {
    statements,
    behaviour: () => ({
      init: () => null,
      handle(s, msg) {
        if (refused++ < down) msg.replyTo.fail(new ServiceUnavailableError('postgres', 'PostgreSQL is unavailable', 1_000, 'DATABASE_UNAVAILABLE'));
        else msg.replyTo.ok(handle);
        return s;
      },
    }),
  };
}

describe('node-registry actor', () => {
  it('retries a failed first registration on the real clock, then heartbeats, with the runtime clock standing still', async () => {
    const { runtime } = testRuntime();
    const pg = fakePostgres(1);
    let stopping = false;
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({ name: 'postgres', behaviour: pg.behaviour }),
          actor({ name: 'node-registry', behaviour: nodeRegistryActor({ identity: newNodeIdentity('n1', 'worker'), heartbeatMs: 20, staleAfterMs: 100, shuttingDown: () => stopping }) }),
        ],
      }),
    );
    const state = () => runtime.tree().children!.find((c) => c.name === 'node-registry')?.stats.state;
    const beats = () => pg.statements.filter((s) => s.startsWith('UPDATE nodes SET heartbeat_at')).length;
    const stopMarks = () => pg.statements.filter((s) => s.includes('stopped_at = now()')).length;
    await waitFor('registered after the refused first beat', () => state() === 'running', 5_000);
    await waitFor('heartbeats renewed', () => beats() >= 2, 5_000);

    // A restart of the tree is not the process stopping: no stop mark. The process stopping writes one.
    await runtime.restartSupervisor('root');
    await waitFor('running again', () => state() === 'running', 5_000);
    expect(stopMarks()).toBe(0);
    stopping = true;
    await runtime.stop();
    expect(stopMarks()).toBe(1);
  });
});
