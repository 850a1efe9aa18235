// ctx.ip trusts X-Forwarded-For only through the configured number of proxy hops.
import { afterEach, describe, expect, it } from 'vitest';
import { defineRoute } from '../../../http/route.js';
import { mintToken } from '../../support/tokens.js';
import { startHttp, type Harness } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ipRoute = defineRoute({
  method: 'GET',
  path: '/test/ip',
  summary: 'Echoes the client IP the app believes.',
  auth: ['admin'],
  responses: { 200: 'the ip' },
  handler(ctx) {
    ctx.body = { ip: ctx.ip };
  },
});

async function ipSeen(h: Harness, forwardedFor?: string): Promise<string> {
  const headers: Record<string, string> = { Authorization: `Bearer ${await mintToken({ role: 'admin' })}` };
  if (forwardedFor) headers['X-Forwarded-For'] = forwardedFor;
  return ((await (await h.fetch('/test/ip', { headers })).json()) as { ip: string }).ip;
}

describe('client IP', () => {
  it('with one trusted hop, takes the address the proxy appended and ignores a forged one before it', async () => {
    harness = await startHttp({ env: { TRUSTED_PROXY_HOPS: '1' }, extraRoutes: [ipRoute] });
    expect(await ipSeen(harness, '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
    expect(await ipSeen(harness, '203.0.113.7')).toBe('203.0.113.7');
  });

  it('with no trusted hop, ignores X-Forwarded-For entirely', async () => {
    harness = await startHttp({ env: { TRUSTED_PROXY_HOPS: '0' }, extraRoutes: [ipRoute] });
    expect(await ipSeen(harness, '6.6.6.6')).toBe('127.0.0.1');
  });
});
