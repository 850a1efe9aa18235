// The dispatch handler's outage hold on a ManualClock: the waits between tries (src/backoff.ts), the hold's end.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { ServiceUnavailableError } from '../../../src/errors/app-error.js';
import { holdThroughOutages, isOutage, OutageError } from '../../../src/dispatch/outage-hold.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs the hold to its end, advancing the clock to each timer it sets. */
async function drive<T>(clock: ManualClock, held: Promise<T>): Promise<T> {
  let done = false;
  void held.finally(() => (done = true));
  for (;;) {
    await flush();
    if (done) return held;
    const next = clock.nextDelay();
    if (next === undefined) throw new Error('the hold neither settled nor set a timer');
    clock.advance(next);
  }
}

const away = () => new OutageError(new ServiceUnavailableError('postgres', 'connection refused'));

describe('holdThroughOutages', () => {
  it('waits 250 ms, doubling up to 10 s, between tries while a dependency is away, then answers the try that worked', async () => {
    const clock = new ManualClock();
    const waits: number[] = [];
    let tries = 0;
    const held = holdThroughOutages(
      { clock, holdMs: 300_000, onOutage: (_detail, ms) => waits.push(ms) },
      async () => {
        if (++tries <= 9) throw away();
        return 'ack';
      },
      () => 'gave up',
    );
    expect(await drive(clock, held)).toBe('ack');
    expect(waits).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
  });

  it('gives up with the cause once the next wait would pass the hold', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const waits: number[] = [];
    const held = holdThroughOutages({ clock, holdMs: 2_000, onOutage: (_d, ms) => waits.push(ms) }, () => Promise.reject(away()), (cause) => cause);
    const cause = await drive(clock, held);
    expect(cause).toBeInstanceOf(ServiceUnavailableError);
    expect(waits).toEqual([250, 500, 1_000]);
    expect(clock.now() - start).toBe(1_750);
  });

  it('gives up at once on an error that is not an outage', async () => {
    const clock = new ManualClock();
    const bug = new TypeError('bug');
    const held = holdThroughOutages({ clock, holdMs: 300_000 }, () => Promise.reject(bug), (cause) => cause);
    expect(await drive(clock, held)).toBe(bug);
  });

  it('tells an outage from the message’s fault', () => {
    expect(isOutage(new ServiceUnavailableError('postgres', 'down'))).toBe(true);
    expect(isOutage(new TypeError('bad body'))).toBe(false);
  });
});
