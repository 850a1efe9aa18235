import { afterEach, describe, expect, it } from 'vitest';
import { sqlSourceActor } from '../../../actors/resources/sql-source-actor.js';
import type { CircuitState } from '../../../src/adapters/mssql/source-circuit.js';
import type { SourceMessage, SourceQuery, SourceRow } from '../../../src/adapters/mssql/source-messages.js';
import type { SourcePool, SourcePoolFactory, SourcePoolHooks } from '../../../src/adapters/mssql/source-pool.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import { testRuntime } from '../../support/supervision.js';
import { waitFor } from '../../support/wait.js';

const QUERY: SourceQuery = { name: 'bills-of-account', tsql: 'SELECT TOP (@n) numFact FROM Historique', twin: 'SELECT 1', params: { n: 6 } };
const ROWS: SourceRow[] = [{ numFact: 'F-1' }, { numFact: 'F-2' }];
const BACKOFF = { minMs: 100, maxMs: 1_000, factor: 2, jitter: 0, resetAfterMs: 0 };

type Step = SourceRow[] | Error;
const driverError = (code: string, number?: number) => Object.assign(new Error(`driver says ${code}`), { name: code === 'EREQUEST' ? 'RequestError' : 'ConnectionError', code, number });

/** A pool for the paths no TDS server here can show: scripted connects and queries, counting what it was asked. */
class FakePool implements SourcePool {
  runs: string[] = [];
  closed = 0;
  healthy = true;
  constructor(
    private readonly connectWith: () => Promise<void>,
    private readonly answers: Step[],
    private readonly otherwise: Step = ROWS,
  ) {}
  connect() {
    return this.connectWith();
  }
  run(query: SourceQuery) {
    this.runs.push(query.name);
    const step = this.answers.shift() ?? this.otherwise;
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  }
  async close() {
    this.closed++;
  }
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function startWith(pools: FakePool[], onCircuit?: (state: CircuitState) => void) {
  const t = testRuntime();
  const made: FakePool[] = [];
  const hooks: SourcePoolHooks[] = [];
  const factory: SourcePoolFactory = (h) => {
    hooks.push(h);
    const p = pools[made.length];
    if (!p) throw new Error('no more fake pools');
    made.push(p);
    return p;
  };
  await t.runtime.start(
    supervisor({
      name: 'root',
      children: [
        actor({
          name: 'source-histh2mc',
          readiness: 'optional',
          behaviour: sqlSourceActor({ source: 'histh2mc', mode: { kind: 'mssql', pool: factory }, queryTimeoutMs: 1_000, failureThreshold: 3, backoff: BACKOFF, random: () => 0, ...(onCircuit ? { onCircuit } : {}) }),
        }),
      ],
    }),
  );
  stop = () => t.runtime.stop();
  const part = () => t.runtime.readiness('test').parts.find((p) => p.name === 'source-histh2mc')!;
  const query = () => t.runtime.ask<SourceMessage, 'query'>('source-histh2mc', 'query', { query: QUERY }, 60_000);
  await waitFor('connected', () => part().state === 'running' || t.clock.pendingTimers > 0);
  return { ...t, part, query, made, hooks };
}

const ok = () => Promise.resolve();

describe('sql source actor', () => {
  it('answers a query with its rows once connected, and shows running', async () => {
    const pool = new FakePool(ok, []);
    const { query, part } = await startWith([pool]);
    expect(part().state).toBe('running');
    expect(await query()).toEqual(ROWS);
    expect(pool.runs).toEqual(['bills-of-account']);
  });

  it('answers an ordinary query error with SOURCE_QUERY_FAILED and never opens the circuit', async () => {
    const invalid = driverError('EREQUEST', 207);
    const pool = new FakePool(ok, [invalid, invalid, invalid, invalid]);
    const { query, part } = await startWith([pool]);
    for (let i = 0; i < 4; i++) await expect(query()).rejects.toMatchObject({ code: 'SOURCE_QUERY_FAILED', number: 207, query: 'bills-of-account' });
    expect(part().state).toBe('running');
    expect(await query()).toEqual(ROWS);
  });

  it('retries a deadlock victim (1205) once, and only once', async () => {
    const deadlock = driverError('EREQUEST', 1205);
    const pool = new FakePool(ok, [deadlock, ROWS, deadlock, deadlock]);
    const { query } = await startWith([pool]);
    expect(await query()).toEqual(ROWS);
    expect(pool.runs).toHaveLength(2);
    await expect(query()).rejects.toMatchObject({ code: 'SOURCE_QUERY_FAILED', number: 1205 });
    expect(pool.runs).toHaveLength(4);
  });

  it('retries a transient login refusal once', async () => {
    const login = Object.assign(driverError('ELOGIN'), { originalError: { code: 'ELOGIN', isTransient: true } });
    const pool = new FakePool(ok, [login, ROWS]);
    const { query } = await startWith([pool]);
    expect(await query()).toEqual(ROWS);
    expect(pool.runs).toHaveLength(2);
  });

  it('opens after repeated outages, fails fast without touching the pool, and closes when the probe on the same pool succeeds', async () => {
    const lost = driverError('ESOCKET');
    const pool = new FakePool(ok, [lost, lost, lost]);
    const { query, part, clock, made } = await startWith([pool]);
    for (let i = 0; i < 3; i++) await expect(query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', reason: 'connection-lost' });
    expect(part().state).toBe('backing-off');
    expect(part().detail).toContain('circuit open');
    const runs = pool.runs.length;
    await expect(query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', reason: 'circuit-open', retryAfterMs: 1_000 });
    expect(pool.runs).toHaveLength(runs);
    clock.advance(clock.nextDelay()!);
    await waitFor('closed again', () => part().state === 'running');
    expect(pool.runs.at(-1)).toBe('probe');
    expect(part().detail).toMatch(/transitions: closed→open .*open→half-open .*half-open→closed/);
    expect(made).toHaveLength(1);
    expect(await query()).toEqual(ROWS);
  });

  it('tells onCircuit (samaconso_source_circuit_state) each state it reports: open after the outages, closed after the probe', async () => {
    const lost = driverError('ESOCKET');
    const heard: CircuitState[] = [];
    const { query, part, clock } = await startWith([new FakePool(ok, [lost, lost, lost])], (s) => heard.push(s));
    for (let i = 0; i < 3; i++) await expect(query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(heard.at(-1)).toBe('open');
    clock.advance(clock.nextDelay()!);
    await waitFor('closed again', () => part().state === 'running');
    expect(heard.at(-1)).toBe('closed');
  });

  it('closes and recreates a pool that stays unhealthy after its probe failed', async () => {
    const lost = driverError('ESOCKET');
    const stuck = new FakePool(ok, [], lost);
    const fresh = new FakePool(ok, []);
    const { query, part, clock, made } = await startWith([stuck, fresh]);
    for (let i = 0; i < 3; i++) await expect(query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    clock.advance(clock.nextDelay()!);
    await waitFor('probe failed', () => stuck.runs.at(-1) === 'probe' && clock.pendingTimers === 1);
    expect(part().state).toBe('backing-off');
    expect(made).toHaveLength(1);
    clock.advance(clock.nextDelay()!);
    await waitFor('recreated', () => part().state === 'running');
    expect(made).toEqual([stuck, fresh]);
    expect(stuck.closed).toBe(1);
    expect(part().detail).toContain('pool recreated 1×');
    expect(await query()).toEqual(ROWS);
    expect(fresh.runs).toEqual(['bills-of-account']);
  });

  it('answers half-open while its probe is in flight, then serves once it connects', async () => {
    let release!: () => void;
    const slow = new FakePool(() => Promise.reject(driverError('ESOCKET')), []);
    const later = new FakePool(() => new Promise<void>((r) => (release = r)), []);
    const { query, part, clock } = await startWith([slow, new FakePool(() => Promise.reject(driverError('ETIMEOUT')), []), new FakePool(() => Promise.reject(driverError('ESOCKET')), []), later]);
    for (let n = 1; n <= 3; n++) {
      await waitFor(`failure ${n}`, () => part().detail?.includes(`${n} consecutive failures`) && clock.pendingTimers === 1);
      if (n < 3) await expect(query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', reason: 'connecting' });
      clock.advance(clock.nextDelay()!);
    }
    await waitFor('probing', () => release !== undefined);
    await expect(query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', reason: 'half-open' });
    release();
    await waitFor('running', () => part().state === 'running');
    expect(await query()).toEqual(ROWS);
    expect(slow.closed).toBe(1);
  });

  it("hears the pool's error events, counts them and stays up", async () => {
    const pool = new FakePool(ok, []);
    const { query, part, hooks, runtime } = await startWith([pool]);
    hooks[0]!.onError(Object.assign(new Error('socket killed mid-reply'), { code: 'ESOCKET' }));
    await waitFor('counted', () => part().detail?.includes('pool errors 1'));
    expect(part().state).toBe('running');
    expect(runtime.tree().children![0]!.stats.crashes).toBe(0);
    expect(await query()).toEqual(ROWS);
  });
});
