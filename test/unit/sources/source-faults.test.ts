import { afterEach, describe, expect, it } from 'vitest';
import { sqlSourceActor } from '../../../actors/resources/sql-source-actor.js';
import type { SourceMessage, SourceQuery } from '../../../src/adapters/mssql/source-messages.js';
import { mssqlPoolFactory } from '../../../src/adapters/mssql/source-pool.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import { freePort } from '../../support/free-port.js';
import { testRuntime } from '../../support/supervision.js';
import { startFaultServer, type FaultServer } from '../../support/tcp-faults.js';
import { waitFor } from '../../support/wait.js';

const QUERY: SourceQuery = { name: 'customer-by-meter', tsql: 'SELECT 1 AS n WHERE @meter = @meter', twin: 'SELECT 1 AS n', params: { meter: '14212345678' } };
const BACKOFF = { minMs: 100, maxMs: 400, factor: 2, jitter: 0.2, resetAfterMs: 0 };
const THRESHOLD = 3;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A source actor with the real mssql pool against `port`, on a manual clock; jitter fixed at its maximum. */
async function startSource(port: number) {
  const t = testRuntime();
  const pool = mssqlPoolFactory({
    source: 'sic',
    server: '127.0.0.1',
    port,
    database: 'SIC',
    user: 'samaconso',
    password: 'not-a-real-password',
    ca: undefined,
    // Real time, for the driver: a listener that accepts and hangs fails after this.
    connectTimeoutMs: 300,
    requestTimeoutMs: 300,
    poolMax: 2,
    appName: 'samaconso-test',
  });
  await t.runtime.start(
    supervisor({
      name: 'root',
      children: [
        actor({
          name: 'source-sic',
          readiness: 'optional',
          behaviour: sqlSourceActor({ source: 'sic', mode: { kind: 'mssql', pool }, queryTimeoutMs: 1_000, failureThreshold: THRESHOLD, backoff: BACKOFF, random: () => 1 }),
        }),
      ],
    }),
  );
  cleanup.push(() => t.runtime.stop());
  const part = () => t.runtime.readiness('test').parts.find((p) => p.name === 'source-sic')!;
  const failures = () => Number(/(\d+) consecutive failures/.exec(part().detail ?? '')?.[1] ?? 0);
  const query = () => t.runtime.ask<SourceMessage, 'query'>('source-sic', 'query', { query: QUERY }, 60_000);
  /** Waits for failure number `n`, then returns the delay the actor set before its next attempt. */
  const failed = async (n: number): Promise<number> => {
    await waitFor(`failure ${n}`, () => failures() === n && t.clock.pendingTimers === 1);
    return t.clock.nextDelay()!;
  };
  return { ...t, part, failures, query, failed };
}

async function faultServer(kind: 'hang' | 'close-at-once'): Promise<FaultServer> {
  const server = await startFaultServer(kind);
  cleanup.push(() => server.close());
  return server;
}

describe.each([
  ['a closed port', async () => ({ port: await freePort(), connections: () => undefined })],
  ['a listener that accepts then hangs', async () => faultServer('hang').then((s) => ({ port: s.port, connections: () => s.connections }))],
  ['a listener that closes at once', async () => faultServer('close-at-once').then((s) => ({ port: s.port, connections: () => s.connections }))],
])('source actor against %s', (_what, serve) => {
  it('backs off with growing delays, capped, and opens its circuit after the threshold', async () => {
    const { port } = await serve();
    const { clock, failed, part } = await startSource(port);
    const delays: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const delay = await failed(n);
      delays.push(delay);
      expect(part().state).toBe('backing-off');
      if (n === THRESHOLD) expect(part().detail).toMatch(/^sic: circuit open/);
      clock.advance(delay);
    }
    // minMs 100 doubling, +20 % jitter at its maximum, capped at 400.
    expect(delays).toEqual([120, 240, 400, 400, 400]);
    expect(part().required).toBe(false);
  });

  it('while open, answers SOURCE_UNAVAILABLE with a Retry-After and opens no connection; the probe after the delay does', async () => {
    const { port, connections } = await serve();
    const { clock, failed, query } = await startSource(port);
    for (let n = 1; n < THRESHOLD; n++) clock.advance(await failed(n));
    const delay = await failed(THRESHOLD);
    const before = connections();
    for (let i = 0; i < 5; i++) {
      await expect(query()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'sic', reason: 'circuit-open', retryAfterMs: 1_000 });
    }
    expect(connections()).toBe(before);
    clock.advance(delay);
    await failed(THRESHOLD + 1);
    if (before !== undefined) expect(connections()).toBeGreaterThan(before);
  });
});
