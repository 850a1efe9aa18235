// The batch loop of the draining actors (actors/services/drain-loop.ts), driven by hand: what the actor would tell
// itself is queued and handed back in order, timers run on a manual clock.
import { describe, expect, it } from 'vitest';
import { DrainLoop, type DrainLoopMessage } from '../../../actors/services/drain-loop.js';
import { ManualClock } from '../../../src/clock.js';

function setup() {
  const clock = new ManualClock();
  const told: DrainLoopMessage<number>[] = [];
  let batches = 0;
  let outcome: () => Promise<number> = async () => 0;
  const ctx = { setTimer: (fn: () => void, ms: number) => clock.setTimeout(fn, ms), clearTimer: (h: Parameters<ManualClock['clearTimeout']>[0]) => clock.clearTimeout(h) };
  const loop = new DrainLoop<number>(ctx, (m) => told.push(m), {
    batch: () => {
      batches++;
      return outcome();
    },
    pollMs: 1_000,
    backoff: { minMs: 100, maxMs: 400, factor: 2, jitter: 0, resetAfterMs: 0 },
    random: () => 0,
  });
  /** Lets the batch's promise settle, then returns what the loop told since the last call. */
  const settle = async () => {
    await new Promise((r) => setImmediate(r));
    return told.splice(0);
  };
  return { clock, loop, settle, batches: () => batches, answer: (f: () => Promise<number>) => (outcome = f) };
}

describe('drain loop', () => {
  it('runs one batch at a time: a kick during a batch runs the next at once after it, else the next waits for the poll', async () => {
    const t = setup();
    t.loop.kick();
    t.loop.kick(); // while running: remembered, not a second batch
    expect(t.batches()).toBe(1);
    expect(await t.settle()).toEqual([{ type: 'batch-done', result: 0 }]);
    t.loop.succeeded(false);
    expect(t.batches()).toBe(2);
    await t.settle();
    t.loop.succeeded(false);
    expect(t.batches()).toBe(2);
    t.clock.advance(999);
    expect(await t.settle()).toEqual([]);
    t.clock.advance(1);
    expect(await t.settle()).toEqual([{ type: 'tick' }]);
  });

  it('goes on at once after a batch that says more may wait', async () => {
    const t = setup();
    t.loop.kick();
    await t.settle();
    t.loop.succeeded(true);
    expect(t.batches()).toBe(2);
  });

  it('backs off after failures with growing, capped delays, ignoring kicks meanwhile, and says when it works again', async () => {
    const t = setup();
    t.answer(async () => {
      throw new Error('away');
    });
    t.loop.kick();
    expect((await t.settle())[0]).toMatchObject({ type: 'batch-done', error: { message: 'away' } });
    expect([t.loop.failed()]).toEqual([100]);
    t.loop.kick();
    expect(t.batches()).toBe(1);
    const delays = [];
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1_000);
      expect(await t.settle()).toEqual([{ type: 'tick' }]);
      t.loop.tick();
      await t.settle();
      delays.push(t.loop.failed());
    }
    expect(delays).toEqual([200, 400, 400]);
    expect(t.loop.failures).toBe(4);
    t.answer(async () => 1);
    t.clock.advance(400);
    await t.settle();
    t.loop.tick();
    await t.settle();
    expect(t.loop.succeeded(false)).toBe(true);
    expect(t.loop.backingOff).toBe(false);
    expect(t.loop.failures).toBe(0);
  });
});
