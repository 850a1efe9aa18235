import { describe, expect, it } from 'vitest';
import { SourceCircuit } from '../../../src/adapters/mssql/source-circuit.js';
import { isRetriedOnce, isSourceOutage, SourceQueryError, SourceTimeoutError } from '../../../src/adapters/mssql/source-errors.js';
import { positionalTwin } from '../../../src/adapters/mssql/twin-params.js';

const circuit = () => new SourceCircuit({ failureThreshold: 3, backoff: { minMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5, resetAfterMs: 0 } });

describe('source circuit', () => {
  it('opens at the threshold with delays that grow, jitter included, up to the cap', () => {
    const c = circuit();
    const seen = [1, 2, 3, 4, 5, 6].map((n) => {
      if (c.state === 'open') c.probing(n);
      return c.failure(n, 1, `failure ${n}`);
    });
    expect(seen.map((f) => f.delayMs)).toEqual([150, 300, 600, 1_000, 1_000, 1_000]);
    expect(seen.map((f) => f.opened)).toEqual([false, false, true, false, false, false]);
    expect(c.state).toBe('open');
    expect(c.opens).toBe(1);
    expect(c.totalFailures).toBe(6);
  });

  it('half-opens for a probe, closes on its success and starts the delays again from the minimum', () => {
    const c = circuit();
    for (let n = 0; n < 3; n++) c.failure(0, 0, 'down');
    c.probing(10);
    expect(c.state).toBe('half-open');
    c.success(20);
    expect(c.state).toBe('closed');
    expect(c.failures).toBe(0);
    expect(c.transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
    expect(c.failure(30, 0, 'again').delayMs).toBe(100);
  });

  it('reopens when the probe fails, and tells callers to wait until the next attempt, a second at least', () => {
    const c = circuit();
    for (let n = 0; n < 3; n++) c.failure(0, 0, 'down');
    c.probing(1);
    const { delayMs } = c.failure(1_000, 0, 'probe failed');
    expect(c.state).toBe('open');
    expect(c.retryAfterMs(1_000)).toBe(Math.max(1_000, delayMs));
    expect(c.retryAfterMs(1_000 + delayMs)).toBe(1_000);
  });
});

describe('source error classification', () => {
  const wrapped = (inner: object) => Object.assign(new Error('wrapped'), { name: 'RequestError', code: 'EREQUEST', originalError: inner });

  it('takes connection failures and our deadline for outages, a server-side query error for none', () => {
    expect(isSourceOutage(Object.assign(new Error('x'), { name: 'ConnectionError', code: 'ESOCKET' }))).toBe(true);
    expect(isSourceOutage(Object.assign(new Error('x'), { name: 'RequestError', code: 'ECLOSE' }))).toBe(true);
    expect(isSourceOutage(new SourceTimeoutError('sic', 'q', 1_000))).toBe(true);
    expect(isSourceOutage(Object.assign(new Error('Invalid column name'), { name: 'RequestError', code: 'EREQUEST', number: 207 }))).toBe(false);
    expect(isSourceOutage(new SourceQueryError('sic', 'q', 207))).toBe(false);
  });

  it('retries once a deadlock victim and a transient login refusal, wherever the driver put the number', () => {
    expect(isRetriedOnce(wrapped({ number: 1205 }))).toBe(true);
    expect(isRetriedOnce(Object.assign(new Error('x'), { code: 'ELOGIN', originalError: { code: 'ELOGIN', number: 40613 } }))).toBe(true);
    expect(isRetriedOnce(Object.assign(new Error('Login failed'), { code: 'ELOGIN', number: 18456 }))).toBe(false);
    expect(isRetriedOnce(wrapped({ number: 207 }))).toBe(false);
  });
});

describe('twin parameters', () => {
  it('rewrites each @name into its position, once per name, leaving quoted text alone', () => {
    expect(positionalTwin(`SELECT * FROM t WHERE a = @meter AND b = '@meter' AND c = @meter LIMIT @limit`, { limit: 5, meter: 'M1' })).toEqual({
      text: `SELECT * FROM t WHERE a = $1 AND b = '@meter' AND c = $1 LIMIT $2`,
      values: ['M1', 5],
    });
  });

  it('refuses a parameter the query does not supply', () => {
    expect(() => positionalTwin('SELECT @missing', {})).toThrow(/@missing/);
  });
});
