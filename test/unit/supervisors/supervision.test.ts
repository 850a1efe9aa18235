import { describe, expect, it } from 'vitest';
import { ActorCrashedError, ActorNotFoundError, ActorRestartingError, ActorStoppedError, QueryTimeoutError } from '../../../src/errors/actor-errors.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import type { ActorBehaviour } from '../../../src/actor-behaviour.js';
import type { Reply } from '../../../src/contracts/reply.js';
import { counter, nextEvent, probe, RefusedError, testRuntime, type CounterMsg } from '../../support/supervision.js';

const get = (rt: ReturnType<typeof testRuntime>['runtime'], name: string) => rt.ask<CounterMsg, 'get'>(name, 'get', {}, 1000);

describe('supervision', () => {
  it('restarts a crashed child and keeps processing', async () => {
    const { runtime, clock } = testRuntime();
    const p = probe();
    await runtime.start(supervisor({ name: 'root', backoff: { minMs: 50, jitter: 0 }, children: [actor({ name: 'c', behaviour: counter('c', p) })] }));
    runtime.tell('c', { type: 'inc' });
    expect(await get(runtime, 'c')).toBe(1);

    const scheduled = nextEvent(runtime, 'restart-scheduled');
    await expect(runtime.ask<CounterMsg, 'boom'>('c', 'boom', {}, 1000)).rejects.toBeInstanceOf(ActorCrashedError);
    expect((await scheduled).delayMs).toBe(50);
    const started = nextEvent(runtime, 'started', (e) => e.name === 'c');
    clock.advance(50);
    await started;

    runtime.tell('c', { type: 'inc' });
    runtime.tell('c', { type: 'inc' });
    expect(await get(runtime, 'c')).toBe(2);
    expect(p.inits).toBe(2);
    expect(p.cleanups).toEqual(['c']);
    const stats = runtime.tree().children![0]!.stats;
    expect(stats).toMatchObject({ state: 'running', crashes: 1, restarts: 1, lastError: { message: 'c boom' } });
    await runtime.stop();
  });

  it('gives up after the restart limit and escalates', async () => {
    let rootGaveUp: unknown;
    const { runtime, clock } = testRuntime({ onRootGiveUp: (e) => (rootGaveUp = e) });
    const p = probe();
    await runtime.start(
      supervisor({
        name: 'root',
        intensity: { maxRestarts: 1, withinMs: 10_000 },
        backoff: { minMs: 10, jitter: 0 },
        children: [
          supervisor({
            name: 'inner',
            intensity: { maxRestarts: 2, withinMs: 10_000 },
            backoff: { minMs: 10, jitter: 0 },
            children: [actor({ name: 'w', behaviour: counter('w', p) })],
          }),
        ],
      }),
    );
    const crashOnce = async () => {
      const started = nextEvent(runtime, 'started', (e) => e.name === 'w');
      const scheduled = nextEvent(runtime, 'restart-scheduled');
      runtime.tell('w', { type: 'boom' });
      clock.advance((await scheduled).delayMs);
      await started;
    };
    await crashOnce();
    await crashOnce();
    // The third crash within the window exceeds inner's intensity (2): inner gives up, root restarts it.
    const gaveUp = nextEvent(runtime, 'gave-up', (e) => e.name === 'inner');
    const rootRestarts = nextEvent(runtime, 'restart-scheduled', (e) => e.name === 'inner');
    runtime.tell('w', { type: 'boom' });
    expect((await gaveUp).error).toMatchObject({ code: 'SUPERVISOR_GAVE_UP' });
    const innerBack = nextEvent(runtime, 'started', (e) => e.name === 'inner');
    clock.advance((await rootRestarts).delayMs);
    await innerBack;
    expect(await get(runtime, 'w')).toBe(0);
    expect(runtime.tree().children![0]!.stats).toMatchObject({ restarts: 1 });

    // inner fails again: a second escalation exceeds root's own intensity (1) and the root gives up.
    await crashOnce();
    await crashOnce();
    const rootGave = nextEvent(runtime, 'gave-up', (e) => e.name === 'root');
    runtime.tell('w', { type: 'boom' });
    await rootGave;
    expect(rootGaveUp).toMatchObject({ code: 'SUPERVISOR_GAVE_UP' });
    await expect(get(runtime, 'w')).rejects.toBeInstanceOf(ActorStoppedError);
  });

  it('resets the restart count after the window', async () => {
    const { runtime, clock, events } = testRuntime();
    const p = probe();
    await runtime.start(
      supervisor({ name: 'root', intensity: { maxRestarts: 2, withinMs: 1_000 }, backoff: { minMs: 10, jitter: 0 }, children: [actor({ name: 'c', behaviour: counter('c', p) })] }),
    );
    const crash = async () => {
      const started = nextEvent(runtime, 'started', (e) => e.name === 'c');
      const scheduled = nextEvent(runtime, 'restart-scheduled');
      runtime.tell('c', { type: 'boom' });
      clock.advance((await scheduled).delayMs);
      await started;
    };
    await crash();
    await crash();
    clock.advance(1_000); // the first two restarts leave the window
    await crash();
    await crash();
    expect(events.some((e) => e.type === 'gave-up')).toBe(false);
    expect(runtime.tree().children![0]!.stats).toMatchObject({ crashes: 4, restarts: 4, state: 'running' });
    await runtime.stop();
  });

  it('backs off between restarts with growing, capped, jittered delays', async () => {
    const randoms = [0, 0.5, 0.9, 0.5, 0.5, 0.5, 0];
    let i = 0;
    const { runtime, clock } = testRuntime({ random: () => randoms[i++] ?? 0 });
    const p = probe();
    const backoff = { minMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5, resetAfterMs: 5_000 };
    await runtime.start(supervisor({ name: 'root', intensity: { maxRestarts: 100, withinMs: 1_000 }, backoff, children: [actor({ name: 'c', behaviour: counter('c', p) })] }));
    const delays: number[] = [];
    const crash = async () => {
      const started = nextEvent(runtime, 'started', (e) => e.name === 'c');
      const scheduled = nextEvent(runtime, 'restart-scheduled');
      runtime.tell('c', { type: 'boom' });
      const { delayMs } = await scheduled;
      delays.push(delayMs);
      // Not restarted one millisecond early: the delay is really waited.
      clock.advance(delayMs - 1);
      expect(runtime.tree().children![0]!.stats.state).toBe('backing-off');
      clock.advance(1);
      await started;
    };
    for (let k = 0; k < 6; k++) await crash();
    // base 100, 200, 400, 800, 1000 (cap), 1000; jitter adds up to +50 % but never past the cap.
    expect(delays).toEqual([100, 250, 580, 1000, 1000, 1000]);
    // After a stable period the delay starts again from the minimum.
    clock.advance(5_000);
    await crash();
    expect(delays.at(-1)).toBe(100);
    await runtime.stop();
  });

  it('stopping a supervisor stops every descendant and runs its cleanup', async () => {
    const { runtime, clock } = testRuntime();
    const p = probe();
    const fired: string[] = [];
    const withTimer = (name: string) =>
      counter(name, p, {
        init: (ctx) => {
          ctx.setTimer(() => fired.push(name), 1_000);
          return 0;
        },
      });
    await runtime.start(
      supervisor({
        name: 'root',
        children: [
          actor({ name: 'a', behaviour: withTimer('a') }),
          supervisor({ name: 'mid', children: [actor({ name: 'b', behaviour: withTimer('b') }), supervisor({ name: 'leaf', children: [actor({ name: 'c', behaviour: withTimer('c') })] })] }),
        ],
      }),
    );
    expect(clock.pendingTimers).toBe(3);
    await runtime.stop();
    expect(p.cleanups).toEqual(['c', 'b', 'a']); // reverse start order, deepest first
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    expect(fired).toEqual([]);
    await expect(get(runtime, 'c')).rejects.toBeInstanceOf(ActorStoppedError);
    expect(runtime.deadLetters.stopped).toBe(1);
  });

  it('rest-for-one restarts the later siblings', async () => {
    const { runtime, clock } = testRuntime();
    const p = probe();
    await runtime.start(
      supervisor({
        name: 'root',
        strategy: 'rest-for-one',
        backoff: { minMs: 10, jitter: 0 },
        children: ['a', 'b', 'c'].map((n) => actor({ name: n, behaviour: counter(n, p) })),
      }),
    );
    for (const n of ['a', 'b', 'c']) runtime.tell(n, { type: 'inc' });
    const scheduled = nextEvent(runtime, 'restart-scheduled');
    runtime.tell('b', { type: 'boom' });
    expect((await scheduled).group).toEqual(['b', 'c']);
    expect(p.cleanups).toEqual(['c', 'b']);
    const cBack = nextEvent(runtime, 'started', (e) => e.name === 'c');
    clock.advance(10);
    await cBack;
    expect(await get(runtime, 'a')).toBe(1); // untouched
    expect(await get(runtime, 'b')).toBe(0);
    expect(await get(runtime, 'c')).toBe(0);
    await runtime.stop();
  });

  it('rest-for-one: a child failing its first start brings its later siblings up once, after it', async () => {
    const { runtime, clock } = testRuntime();
    const p = probe();
    let failFirst = true;
    const flaky = counter('a', p, {
      init: () => {
        if (failFirst) {
          failFirst = false;
          throw new Error('cannot start yet');
        }
        return 0;
      },
    });
    const scheduled = nextEvent(runtime, 'restart-scheduled');
    const bInits = probe();
    await runtime.start(
      supervisor({ name: 'root', strategy: 'rest-for-one', backoff: { minMs: 10, jitter: 0 }, children: [actor({ name: 'a', behaviour: flaky }), actor({ name: 'b', behaviour: counter('b', bInits) })] }),
    );
    expect((await scheduled).group).toEqual(['a', 'b']);
    expect(bInits.inits).toBe(0); // not started behind the restart's back
    const bUp = nextEvent(runtime, 'started', (e) => e.name === 'b');
    clock.advance(10);
    await bUp;
    expect(bInits.inits).toBe(1);
    expect(await get(runtime, 'b')).toBe(0);
    expect(runtime.tree().children!.map((c) => c.stats.state)).toEqual(['running', 'running']);
    await runtime.stop();
    expect(bInits.cleanups).toEqual(['b']);
  });

  it('rest-for-one: queries on the crashed child fail at once, even while a later sibling takes long to stop', async () => {
    const { runtime } = testRuntime();
    const p = probe();
    let releaseCleanup!: () => void;
    const slowStop = counter('b', probe(), { cleanup: () => new Promise<void>((r) => (releaseCleanup = r)) });
    await runtime.start(
      supervisor({ name: 'root', strategy: 'rest-for-one', children: [actor({ name: 'a', behaviour: counter('a', p) }), actor({ name: 'b', behaviour: slowStop })] }),
    );
    const held = runtime.ask<CounterMsg, 'hold'>('a', 'hold', {}, 60_000).catch((e: unknown) => e);
    await get(runtime, 'a');
    const crashed = nextEvent(runtime, 'crashed');
    runtime.tell('a', { type: 'boom' });
    await crashed;
    // b's cleanup has not finished (the manual clock never moves), yet a's callers already have their answer.
    expect(await held).toBeInstanceOf(ActorRestartingError);
    await expect(get(runtime, 'a')).rejects.toBeInstanceOf(ActorRestartingError);
    releaseCleanup();
    await runtime.stop();
  });

  it("reports each actor's stats: state, mailbox depth, handled, crashes, restarts, last error", async () => {
    const { runtime } = testRuntime();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = counter('s', probe(), {
      handle: async (n, msg) => {
        if (msg.type === 'inc' && n === 0) await gate; // the first message holds the mailbox
        if (msg.type === 'get') msg.replyTo.ok(n);
        return msg.type === 'inc' ? n + 1 : n;
      },
    });
    await runtime.start(supervisor({ name: 'root', children: [actor({ name: 's', behaviour: slow })] }));
    for (let i = 0; i < 4; i++) runtime.tell('s', { type: 'inc' });
    const stats = () => runtime.tree().children![0]!.stats;
    await new Promise((r) => setImmediate(r));
    expect(stats()).toMatchObject({ state: 'running', mailboxDepth: 3, handled: 0, crashes: 0, restarts: 0 });
    release();
    expect(await get(runtime, 's')).toBe(4);
    await new Promise((r) => setImmediate(r)); // the reply goes out inside the handler; its count right after
    expect(stats()).toMatchObject({ mailboxDepth: 0, handled: 5 });
    expect(stats().lastError).toBeUndefined();
    await runtime.stop();
    expect(stats().state).toBe('stopped');
  });

  it('a failing query gets a typed error reply at once, not a timeout', async () => {
    const { runtime } = testRuntime();
    const p = probe();
    await runtime.start(supervisor({ name: 'root', children: [actor({ name: 'c', behaviour: counter('c', p) })] }));
    // The manual clock never moves in this test: no deadline can fire, so each rejection is the reply itself.
    await expect(runtime.ask<CounterMsg, 'refuse'>('c', 'refuse', {}, 60_000)).rejects.toBeInstanceOf(RefusedError);
    await expect(runtime.ask<CounterMsg, 'boom'>('c', 'boom', {}, 60_000)).rejects.toBeInstanceOf(ActorCrashedError);
    await expect(runtime.ask<CounterMsg, 'get'>('nobody', 'get', {}, 60_000)).rejects.toBeInstanceOf(ActorNotFoundError);
    expect(runtime.deadLetters.notFound).toBe(1);
    await runtime.stop();
  });

  it('a query with no reply fails with QueryTimeoutError at its deadline', async () => {
    const { runtime, clock } = testRuntime();
    const p = probe();
    await runtime.start(supervisor({ name: 'root', children: [actor({ name: 'c', behaviour: counter('c', p) })] }));
    const q = runtime.ask<CounterMsg, 'hold'>('c', 'hold', {}, 500);
    const settled = q.catch((e: unknown) => e);
    await get(runtime, 'c'); // the hold was handled
    clock.advance(499);
    expect(p.held[0]!.settled).toBe(false);
    clock.advance(1);
    expect(await settled).toMatchObject({ code: 'QUERY_TIMEOUT', actor: 'c', messageType: 'hold', deadlineMs: 500 });
    expect(await settled).toBeInstanceOf(QueryTimeoutError);
    await runtime.stop();
  });

  it('a pending query on a restarted actor gets ActorRestarting', async () => {
    const { runtime, clock } = testRuntime();
    const p = probe();
    await runtime.start(
      supervisor({ name: 'root', backoff: { minMs: 10, jitter: 0 }, children: [supervisor({ name: 'svc', children: [actor({ name: 'c', behaviour: counter('c', p) })] })] }),
    );
    const held = runtime.ask<CounterMsg, 'hold'>('c', 'hold', {}, 60_000).catch((e: unknown) => e);
    await get(runtime, 'c');
    const scheduled = nextEvent(runtime, 'restart-scheduled');
    runtime.tell('c', { type: 'boom' });
    expect(await held).toBeInstanceOf(ActorRestartingError);
    // While it waits for its restart, new queries are answered at once too.
    const { delayMs } = await scheduled;
    await expect(get(runtime, 'c')).rejects.toBeInstanceOf(ActorRestartingError);
    const back = nextEvent(runtime, 'started', (e) => e.name === 'c');
    clock.advance(delayMs);
    await back;

    // An on-call restart of the supervisor does the same for what is pending below it.
    const held2 = runtime.ask<CounterMsg, 'hold'>('c', 'hold', {}, 60_000).catch((e: unknown) => e);
    await get(runtime, 'c');
    await runtime.restartSupervisor('svc');
    expect(await held2).toBeInstanceOf(ActorRestartingError);
    expect(await get(runtime, 'c')).toBe(0);
    await runtime.stop();
  });

  it('ActorRestarting says whether the query had been started: only one never handled is safe to send again', async () => {
    const { runtime } = testRuntime();
    const p = probe();
    let finishSlow!: () => void;
    type SlowMsg = CounterMsg | { type: 'slow'; replyTo: Reply<number> };
    const slow = (): ActorBehaviour<number, SlowMsg> => {
      const base = counter('c', p)();
      return {
        ...base,
        handle: (n, msg, ctx) =>
          msg.type === 'slow'
            ? new Promise<number>((resolve) => (finishSlow = () => (msg.replyTo.ok(n), resolve(n))))
            : (base.handle(n, msg, ctx as never) as number),
      };
    };
    await runtime.start(supervisor({ name: 'root', children: [supervisor({ name: 'svc', children: [actor({ name: 'c', behaviour: slow })] })] }));
    const held = runtime.ask<CounterMsg, 'hold'>('c', 'hold', {}, 60_000).catch((e: unknown) => e);
    const inFlight = runtime.ask<SlowMsg, 'slow'>('c', 'slow', {}, 60_000).catch((e: unknown) => e);
    const queued = runtime.ask<CounterMsg, 'get'>('c', 'get', {}, 60_000).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    const restart = runtime.restartSupervisor('svc');
    // Sent while the actor is stopping: never handled.
    const during = await get(runtime, 'c').catch((e: unknown) => e);
    finishSlow();
    await restart;
    expect(await inFlight).toBe(0); // the in-flight query finishes before the stop
    expect(await held).toMatchObject({ code: 'ACTOR_RESTARTING', started: true });
    expect(await queued).toMatchObject({ code: 'ACTOR_RESTARTING', started: false });
    expect(during).toMatchObject({ code: 'ACTOR_RESTARTING', started: false });
    await runtime.stop();
  });

  it('a resource outage does not count as a crash', async () => {
    type ProbeMsg = { type: 'connect-failed' } | { type: 'connected' } | { type: 'ping'; replyTo: Reply<true> };
    const flaky = (): ActorBehaviour<null, ProbeMsg> => ({
      init: (ctx) => {
        ctx.setStatus('backing-off', 'connecting');
        return null;
      },
      handle: (s, msg, ctx) => {
        if (msg.type === 'connect-failed') ctx.setStatus('backing-off', 'connection refused', new Error('ECONNREFUSED'));
        else if (msg.type === 'connected') ctx.setStatus('running');
        else msg.replyTo.ok(true);
        return s;
      },
    });
    const { runtime, events } = testRuntime();
    await runtime.start(supervisor({ name: 'root', intensity: { maxRestarts: 1, withinMs: 60_000 }, children: [actor({ name: 'db', behaviour: flaky, readiness: 'required' })] }));
    for (let k = 0; k < 50; k++) runtime.tell('db', { type: 'connect-failed' });
    await runtime.ask<ProbeMsg, 'ping'>('db', 'ping', {}, 1000);
    const report = runtime.readiness('api');
    expect(report).toMatchObject({ ready: false, parts: [{ name: 'db', state: 'backing-off', ready: false, required: true, detail: 'connection refused' }] });
    expect(runtime.tree().children![0]!.stats).toMatchObject({ crashes: 0, restarts: 0, lastError: { message: 'ECONNREFUSED' } });
    expect(events.filter((e) => e.type === 'crashed' || e.type === 'gave-up')).toEqual([]);
    runtime.tell('db', { type: 'connected' });
    await runtime.ask<ProbeMsg, 'ping'>('db', 'ping', {}, 1000);
    expect(runtime.readiness('api').ready).toBe(true);
    await runtime.stop();
  });
});
