// The check-health CLI against a local HTTP server answering the control plane's shapes
// (src/contracts/control-plane-messages.ts): what it asks with which credentials, its table and its exit codes.
// The same CLI against a running node is test/integration/check-health.test.ts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHealth } from '../../../src/cli/check-health.js';
import type { ClusterNode, NodeTree } from '../../../src/contracts/control-plane-messages.js';

const QUEUES = ['urgent', 'high_priority', 'normal', 'low_priority'];
const stats = (state: string) => ({ state, mailboxDepth: 0, handled: 3, crashes: 0, restarts: 0 });
const worker: NodeTree = {
  node: 'worker-1',
  role: 'worker',
  at: '2026-12-04T15:00:00.000Z',
  ageMs: 900,
  tree: {
    path: 'root',
    name: 'root',
    kind: 'supervisor',
    stats: stats('running') as NodeTree['tree']['stats'],
    children: [{ path: 'root/postgres', name: 'postgres', kind: 'actor', readiness: 'required', stats: stats('running') as NodeTree['tree']['stats'] }],
  },
};
const alive: ClusterNode = { node: 'worker-1', role: 'worker', host: 'w1', pid: 7, incarnation: 'i', startedAt: '2026-12-04T14:00:00.000Z', heartbeatAt: '2026-12-04T15:00:00.000Z', snapshotAgeMs: 900 };

interface Fake {
  consumers: Record<string, number>;
  paused: Record<string, boolean>;
  queuesStatus: number;
  seen: Array<{ method: string; path: string; auth: string | undefined; body: string }>;
}

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function startApi(fake: Fake): Promise<string> {
  const read = (req: IncomingMessage) => new Promise<string>((r) => { let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => r(b)); });
  server = createServer(async (req, res) => {
    const body = await read(req);
    fake.seen.push({ method: req.method!, path: req.url!, auth: req.headers.authorization, body });
    const json = (status: number, value: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); };
    if (req.url === '/v1/auth/agent-login') return JSON.parse(body).password === 'right' ? json(200, { accessToken: 'signed-in', refreshToken: 'r'.repeat(20), tokenType: 'Bearer', expiresIn: 900 }) : json(401, { code: 'INVALID_CREDENTIALS' });
    if (req.url === '/v1/auth/logout') return json(200, { ended: 1 });
    if (req.url === '/health/ready') return json(200, { ready: true, role: 'api', parts: [{ name: 'postgres', state: 'running', ready: true, required: true }] });
    if (!['Bearer admin-token', 'Bearer signed-in'].includes(req.headers.authorization ?? '')) return json(403, { code: 'FORBIDDEN' });
    if (req.url === '/admin/nodes') return json(200, { nodes: [alive] });
    if (req.url === '/admin/supervisors') return json(200, { nodes: [worker] });
    if (req.url === '/admin/queues')
      return fake.queuesStatus === 200 ? json(200, { queues: QUEUES.map((name) => ({ name, kind: 'priority', consumers: fake.consumers[name] ?? 1, paused: fake.paused[name] ?? false })) }) : json(fake.queuesStatus, { code: 'BROKER_MANAGEMENT_UNAVAILABLE' });
    json(404, {});
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const fake = (over: Partial<Fake> = {}): Fake => ({ consumers: {}, paused: {}, queuesStatus: 200, seen: [], ...over });

async function run(env: Record<string, string>, argv: string[] = []): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await checkHealth(argv, env, (l) => lines.push(l));
  return { code, text: lines.join('\n') };
}

describe('npm run check-health (against the contract shapes)', () => {
  it('prints a row per part and exits 0 when all is well, with the token from SAMACONSO_ADMIN_TOKEN and the URL from SAMACONSO_URL', async () => {
    const f = fake();
    const url = await startApi(f);
    const r = await run({ SAMACONSO_URL: url, SAMACONSO_ADMIN_TOKEN: 'admin-token' });
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/^worker-1 +\(node\) +yes +alive +900 +worker on w1 pid 7/m);
    expect(r.text).toMatch(/^worker-1 +postgres +yes +running +900/m);
    expect(r.text).toMatch(/^\(api\) +\/health\/ready +yes +ready +\d+ +api$/m);
    expect(r.text).toContain('healthy: 1 node(s)');
    expect(new Set(f.seen.map((s) => s.path))).toEqual(new Set(['/admin/nodes', '/admin/supervisors', '/admin/queues', '/health/ready']));
  });

  it('exits 1 naming the queue that has no consumer and is not paused; 0 again once it is paused', async () => {
    const f = fake({ consumers: { low_priority: 0 } });
    const url = await startApi(f);
    const down = await run({ SAMACONSO_ADMIN_TOKEN: 'admin-token' }, ['--url', url]);
    expect(down.code).toBe(1);
    expect(down.text).toMatch(/^\(broker\) +queue low_priority +yes +no consumer +- +0 consumer\(s\)$/m);
    expect(down.text).toContain('PROBLEM queue low_priority has no consumer and is not paused');
    f.paused.low_priority = true;
    expect((await run({ SAMACONSO_ADMIN_TOKEN: 'admin-token' }, ['--url', url])).code).toBe(0);
  });

  it("signs in with an admin login and password and out again; judges queues from the trees when the broker's counts are away", async () => {
    const f = fake({ queuesStatus: 503 });
    const url = await startApi(f);
    const r = await run({ SAMACONSO_URL: url, SAMACONSO_ADMIN_LOGIN: 'admin.ops', SAMACONSO_ADMIN_PASSWORD: 'right' });
    // The tree has no consumers: every queue is down, counted from the nodes' trees.
    expect(r.code).toBe(1);
    expect(r.text).toContain("note: GET /admin/queues answered 503; queue consumers counted from the nodes' trees");
    expect(r.text).toMatch(/^\(nodes\) +queue urgent +yes +no consumer/m);
    expect(f.seen[0]).toMatchObject({ method: 'POST', path: '/v1/auth/agent-login' });
    expect(JSON.parse(f.seen[0]!.body)).toMatchObject({ login: 'admin.ops', password: 'right', platform: 'web' });
    expect(f.seen.filter((s) => s.path.startsWith('/admin/')).every((s) => s.auth === 'Bearer signed-in')).toBe(true);
    expect(f.seen.at(-1)).toMatchObject({ method: 'POST', path: '/v1/auth/logout', auth: 'Bearer signed-in' });
  });

  it('exits 2 without credentials, with refused ones or a non-admin token, and 3 when the API cannot be reached', async () => {
    const url = await startApi(fake());
    expect((await run({ SAMACONSO_URL: url })).code).toBe(2);
    expect((await run({ SAMACONSO_URL: url, SAMACONSO_ADMIN_LOGIN: 'admin.ops', SAMACONSO_ADMIN_PASSWORD: 'wrong' })).code).toBe(2);
    const customer = await run({ SAMACONSO_URL: url, SAMACONSO_ADMIN_TOKEN: 'customer-token' });
    expect(customer).toMatchObject({ code: 2 });
    expect(customer.text).toContain("answered 403: the credentials are not an admin's");
    expect((await run({ SAMACONSO_ADMIN_TOKEN: 't' }, ['--url', 'http://127.0.0.1:1'])).code).toBe(3);
    expect((await run({ SAMACONSO_ADMIN_TOKEN: 't' }, ['--nope'])).code).toBe(2);
  });
});
