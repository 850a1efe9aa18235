// The api surface serves clients and on-call; the ops surface serves only health and metrics. With a separate admin
// listener (ADMIN_PORT) the on-call routes leave the public surface for the admin one, which carries the staff sign-in.
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

  it('public: everything of the api but the on-call routes', async () => {
    harness = await startHttp({ surface: 'public', metrics });
    for (const path of ['/admin', '/admin/assets/dashboard.js', '/admin/nodes', '/admin/supervisors', '/admin/events', '/admin/queues', '/admin/jobs', '/admin/dead-letters']) {
      expect((await harness.fetch(path)).status, path).toBe(404);
    }
    expect((await harness.fetch('/admin/queues/low_priority/pause', { method: 'POST' })).status).toBe(404);
    expect((await harness.fetch('/openapi.json')).status).toBe(200);
    expect((await harness.fetch('/health/live')).status).toBe(200);
    expect((await harness.fetch('/v1/me')).status).toBe(401);
    expect((await harness.fetch('/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
    expect((await harness.fetch('/metrics')).status).toBe(404);
  });

  it('admin: the on-call page and routes, health and the staff sign-in, nothing of the clients', async () => {
    harness = await startHttp({ surface: 'admin', metrics });
    const page = await harness.fetch('/admin');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await harness.fetch('/admin/assets/dashboard.js')).status).toBe(200);
    for (const path of ['/admin/nodes', '/admin/supervisors', '/admin/events', '/admin/queues', '/admin/jobs', '/admin/dead-letters']) {
      expect((await harness.fetch(path)).status, path).toBe(401);
    }
    expect((await harness.fetch('/health/live')).status).toBe(200);
    const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
    for (const path of ['/v1/auth/agent-login', '/v1/auth/refresh']) expect((await harness.fetch(path, json)).status, path).toBe(400);
    expect((await harness.fetch('/v1/auth/logout', { method: 'POST' })).status).toBe(401);
    for (const path of ['/v1/me', '/v1/meters', '/openapi.json', '/docs', '/metrics', '/v1/live']) expect((await harness.fetch(path)).status, path).toBe(404);
    for (const path of ['/v1/auth/login', '/v1/auth/register', '/v1/auth/pin-reset']) expect((await harness.fetch(path, json)).status, path).toBe(404);
  });
});
