// The whole node over HTTP against the real PostgreSQL and Redis: routes reach the actors and map their replies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

describe('node over HTTP', () => {
  let db: TestDatabase;
  let node: RunningNode;
  let admin: string;
  let customer: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    node = await startTestNode({ DATABASE_URL: db.url, REDIS_URL: servicesEnv().TEST_REDIS_URL });
    await waitFor('ready', () => node.runtime.readiness('test').ready);
    admin = await mintToken({ role: 'admin' });
    customer = await mintToken({ role: 'customer' });
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
  });

  const post = (path: string, body: string, token = admin) =>
    fetch(`${node.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });

  it('serves reference data from PostgreSQL to a signed-in customer', async () => {
    const res = await fetch(`${node.apiUrl}/v1/notification-types`, { headers: { authorization: `Bearer ${customer}` } });
    expect(res.status).toBe(200);
    const types = (await res.json()) as Array<{ code: string; queue: string }>;
    expect(types.find((t) => t.code === 'outage')?.queue).toBe('urgent');
    expect((await fetch(`${node.apiUrl}/v1/notification-types`)).status).toBe(401);
  });

  it('answers a plain request on the live inbox path with 426 and documents the WebSocket in OpenAPI', async () => {
    const res = await fetch(`${node.apiUrl}/v1/me/notifications/live`, { headers: { authorization: `Bearer ${customer}` } });
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
    expect(await res.json()).toMatchObject({ code: 'UPGRADE_REQUIRED' });
    const doc = (await (await fetch(`${node.apiUrl}/openapi.json`)).json()) as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
    expect(Object.keys(doc.paths['/v1/me/notifications/live']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['101', '401', '426']));
  });

  it('answers malformed JSON and a wrong field type with a 400 problem naming the field', async () => {
    const malformed = await post('/admin/supervisors/resources/restart', '{"reason":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await malformed.json()).toMatchObject({ code: 'MALFORMED_JSON' });

    const wrongType = await post('/admin/supervisors/resources/restart', JSON.stringify({ reason: 42 }));
    expect(wrongType.status).toBe(400);
    const problem = (await wrongType.json()) as { code: string; fields: Array<{ path: string }> };
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.fields.map((f) => f.path)).toEqual(['body.reason']);
  });

  it('restarts one supervisor on request and keeps serving; refuses the root and unknown names; customers get 403', async () => {
    // The control plane addresses the nodes the registry takes for alive: this one, once its first heartbeat is in.
    const nodes = async () => ((await (await fetch(`${node.apiUrl}/admin/nodes`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { nodes: unknown[] }).nodes;
    await waitFor('this node registered', async () => (await nodes()).length === 1, 30_000);
    const before = node.runtime.tree().children!.find((c) => c.name === 'resources')!.stats.restarts;
    const res = await post('/admin/supervisors/resources/restart', JSON.stringify({ reason: 'pool wedged' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ supervisor: 'resources', reason: 'pool wedged', results: [{ outcome: 'ok', result: { restarted: 'resources' } }] });
    const resources = node.runtime.tree().children!.find((c) => c.name === 'resources')!;
    expect(resources.stats.restarts).toBe(before + 1);
    await waitFor('ready again', () => node.runtime.readiness('test').ready);
    const tree = await fetch(`${node.apiUrl}/admin/supervisors`, { headers: { authorization: `Bearer ${admin}` } });
    expect(tree.status).toBe(200);

    expect((await post('/admin/supervisors/root/restart', JSON.stringify({ reason: 'x' }))).status).toBe(400);
    const unknown = await post('/admin/supervisors/nope/restart', JSON.stringify({ reason: 'x' }));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'SUPERVISOR_NOT_FOUND' });
    expect((await post('/admin/supervisors/resources/restart', JSON.stringify({ reason: 'x' }), customer)).status).toBe(403);
  });

  it('serves Prometheus metrics with actor stats on the ops port', async () => {
    const res = await fetch(`${node.opsUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/samaconso_actor_state\{actor="postgres",kind="actor",state="running"\} 1/);
    expect(text).toMatch(/samaconso_dead_letters\{reason="notFound"\}/);
  });
});
