// What the public API port tells anyone about the server's trouble: part names and states, stable codes —
// never an internal error text (hosts, ports, a driver's words). Details stay on the ops port and in /admin.
// The witness is the postgres actor's own report of its outage (what /admin/supervisors shows).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node.js';
import { startTestNode } from '../support/node.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { waitFor } from '../support/wait.js';

const PUBLIC_PART_KEYS = ['name', 'ready', 'required', 'state'];

describe('public error details while the database is down', () => {
  let server: PrivatePostgres;
  let node: RunningNode;
  /** The postgres actor's own account of the outage, as the on-call sees it. */
  let witness: { detail: string; lastError: string };

  beforeAll(async () => {
    server = await startPrivatePostgres();
    node = await startTestNode({ DATABASE_URL: server.url });
    await waitFor('postgres running', () => node.runtime.readiness('test').parts.find((p) => p.name === 'postgres')?.state === 'running', 20_000);
    await server.stop();
    witness = await waitFor(
      'postgres reporting its outage',
      () => {
        const pg = postgresStats();
        return pg.state === 'backing-off' && pg.lastError ? { detail: pg.detail ?? '', lastError: pg.lastError.message } : undefined;
      },
      20_000,
    );
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    await server?.destroy();
  });

  const postgresStats = () => node.runtime.tree().children!.find((c) => c.name === 'resources')!.children!.find((c) => c.name === 'postgres')!.stats;

  /** Internal texts a public body must not carry: the actor's error, and where the database listens. */
  const leaks = (text: string) => [witness.lastError, witness.detail, String(server.port), 'ECONNREFUSED'].filter((s) => s !== '' && text.includes(s));

  it('shows only names and states on the public /health/ready', async () => {
    const res = await fetch(`${node.apiUrl}/health/ready`);
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = JSON.parse(text) as { code: string; parts: Array<Record<string, unknown>>; queues?: unknown };
    expect(body.code).toBe('NOT_READY');
    expect(body.parts.find((p) => p.name === 'postgres')).toMatchObject({ name: 'postgres', ready: false, state: 'backing-off' });
    for (const part of body.parts) expect(Object.keys(part).filter((k) => !PUBLIC_PART_KEYS.includes(k)), String(part.name)).toEqual([]);
    expect(body.queues).toBeUndefined();
    expect(leaks(text)).toEqual([]);
  });

  it('keeps each part’s detail on the ops port', async () => {
    // The actor keeps probing and its last error moves on (a terminated connection, then a refused one): the detail
    // served is the actor's own at some instant of the request, so it holds the last error read before or after it.
    const before = postgresStats().lastError?.message;
    const res = await fetch(`${node.opsUrl}/health/ready`);
    const after = postgresStats().lastError?.message;
    expect(res.status).toBe(503);
    const body = (await res.json()) as { parts: Array<{ name: string; detail?: string }> };
    const detail = body.parts.find((p) => p.name === 'postgres')?.detail ?? '';
    expect([before, after].filter((e) => e !== undefined && detail.includes(e)), `detail "${detail}" holds the actor's last error ("${before}" or "${after}")`).not.toEqual([]);
  });

  it('answers a public route that needs the database with 503 DATABASE_UNAVAILABLE and no internal text', async () => {
    const res = await fetch(`${node.apiUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '+221770000001', pin: '2468', deviceModel: 'Pixel 8', platform: 'android' }),
    });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503 });
    expect(leaks(text)).toEqual([]);
  });
});
