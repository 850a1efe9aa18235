// The api surface serves clients and on-call; the ops surface serves only health and metrics.
import { afterEach, describe, expect, it } from 'vitest';
import { fakeGateway, startHttp, type Harness } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const metrics = async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# HELP up 1\nup 1\n' });

describe('surfaces', () => {
  it('serves health and metrics on the ops surface, and nothing of the api', async () => {
    harness = await startHttp({ surface: 'ops', metrics, gateway: fakeGateway() });
    expect((await harness.fetch('/health/live')).status).toBe(200);
    const res = await harness.fetch('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    expect(await res.text()).toContain('up 1');
    for (const path of ['/openapi.json', '/docs', '/admin/supervisors']) expect((await harness.fetch(path)).status, path).toBe(404);
  });

  it('does not serve metrics on the api surface', async () => {
    harness = await startHttp({ surface: 'api', metrics });
    expect((await harness.fetch('/metrics')).status).toBe(404);
  });
});
