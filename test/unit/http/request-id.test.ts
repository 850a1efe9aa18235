// Each request has an id: a well-formed incoming X-Request-Id is kept, anything else is replaced; it is logged.
import { afterEach, describe, expect, it } from 'vitest';
import { startHttp, type Harness } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request id', () => {
  it('keeps a well-formed incoming X-Request-Id', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/health/live', { headers: { 'X-Request-Id': 'lb-2f9c.41_A-7' } });
    expect(res.headers.get('x-request-id')).toBe('lb-2f9c.41_A-7');
  });

  it.each([
    ['too short', 'abc'],
    ['with spaces and quotes', 'abc def "ghi" jkl'],
    ['too long', 'a'.repeat(129)],
  ])('replaces an incoming id that is %s with a UUID', async (_, incoming) => {
    harness = await startHttp();
    const res = await harness.fetch('/health/live', { headers: { 'X-Request-Id': incoming } });
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  it('writes one access log line with method, path without the query, status and duration', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/v1/nothing-here?pin=1234&token=secret');
    const id = res.headers.get('x-request-id');
    const lines = harness.logs.filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: id, method: 'GET', path: '/v1/nothing-here', status: 404, ms: expect.any(Number) });
    expect(JSON.stringify(harness.logs)).not.toMatch(/1234|secret/);
  });

  it('writes no access line while the level is above info, and writes again when it comes back down', async () => {
    harness = await startHttp();
    harness.log.level = 'warn';
    await harness.fetch('/v1/nothing-here');
    expect(harness.logs.filter((l) => l.msg === 'request')).toHaveLength(0);
    harness.log.level = 'info';
    await harness.fetch('/v1/nothing-here');
    expect(harness.logs.filter((l) => l.msg === 'request')).toHaveLength(1);
  });
});
