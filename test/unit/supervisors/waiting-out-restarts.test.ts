// The gateway's retry of queries an actor never started because it was restarting: sent again within the deadline,
// and only those.
import { describe, expect, it } from 'vitest';
import { ActorCrashedError, ActorRestartingError, QueryTimeoutError } from '../../../src/errors/actor-errors.js';
import { waitingOutRestarts } from '../../../src/waiting-out-restarts.js';

/** A clock moved only by the sleeps, and a record of them. */
function fakeTime() {
  let t = 0;
  const pauses: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (pauses.push(ms), (t += ms)), pauses };
}

describe('waitingOutRestarts', () => {
  it('sends a query the restarting actor never started again until it answers, with the time left as its deadline', async () => {
    const time = fakeTime();
    const deadlines: number[] = [];
    let calls = 0;
    const answer = await waitingOutRestarts(async (deadlineMs) => {
      deadlines.push(deadlineMs);
      if (++calls < 4) throw new ActorRestartingError('reference');
      return 'types';
    }, { deadlineMs: 1_000, ...time });
    expect(answer).toBe('types');
    expect(time.pauses).toEqual([10, 20, 40]);
    expect(deadlines).toEqual([1_000, 990, 970, 930]);
  });

  it('never sends again a query the handler had started, nor on any other error', async () => {
    for (const error of [new ActorRestartingError('accounts', true), new ActorCrashedError('accounts', new Error('x')), new QueryTimeoutError('accounts', 'login', 5)]) {
      let calls = 0;
      const failed = await waitingOutRestarts(async () => {
        calls++;
        throw error;
      }, { deadlineMs: 1_000, ...fakeTime() }).catch((e: unknown) => e);
      expect(failed).toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('gives up with the restart error once the deadline would pass, the pauses capped', async () => {
    const time = fakeTime();
    let calls = 0;
    const failed = await waitingOutRestarts(async () => {
      calls++;
      throw new ActorRestartingError('reference');
    }, { deadlineMs: 1_000, maxPauseMs: 200, ...time }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'ACTOR_RESTARTING', started: false });
    expect(time.pauses).toEqual([10, 20, 40, 80, 160, 200, 200, 200]);
    expect(time.pauses.reduce((a, b) => a + b, 0)).toBeLessThan(1_000);
    expect(calls).toBe(time.pauses.length + 1);
  });
});
