// fanOut's options are checked before anything is read or published; batch ids are deterministic.
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../src/adapters/broker/broker.js';
import { SystemClock } from '../../../src/clock.js';
import type { PgHandle } from '../../../src/adapters/postgres/postgres-messages.js';
import { batchMessageId, fanOut } from '../../../src/dispatch/fan-out.js';

const untouchable = new Proxy({}, { get: () => () => Promise.reject(new Error('must not be called')) });
const deps = { db: untouchable as PgHandle, broker: untouchable as Broker, clock: new SystemClock() };

describe('fanOut options', () => {
  it.each([0, 501, 1.5, -1])('rejects batchSize %s before touching the database or the broker', async (batchSize) => {
    await expect(fanOut(deps, { jobId: 'j' }, { batchSize })).rejects.toThrow(RangeError);
  });
  it.each([0, 2.5])('rejects pageSize %s', async (pageSize) => {
    await expect(fanOut(deps, { jobId: 'j' }, { pageSize })).rejects.toThrow(RangeError);
  });
  it('names a batch by job and number', () => {
    expect(batchMessageId('4f1c', 7)).toBe('4f1c:7');
  });
});
