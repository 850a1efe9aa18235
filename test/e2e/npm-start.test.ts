// Smoke test of `npm start` on embedded defaults: the whole process, as a fresh clone runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleFile } from '../support/attachments.js';
import { TEST_JWKS, mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], dataDir: string, extraEnv: Record<string, string> = {}): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', OPS_PORT: '0', EMBEDDED_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'JWT_PUBLIC_KEYS', 'APP_ENV', 'ROLE', 'SHUTDOWN_TIMEOUT_MS']) delete env[k];
  Object.assign(env, extraEnv);
  // Its own process group, so a signal can reach the whole tree as a terminal's Ctrl-C does.
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close' waits for every writer of the pipes, including a grandchild that outlives npm.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve({ child, url: m[1]!, output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
  });
}

describe('npm start (embedded mode)', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'samaconso-embedded-'));
    dirs.push(d);
    return join(d, 'pglite');
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('builds, serves /health/ready with every part, the demo meters and their data, answers problem+json, and exits 0 on SIGTERM', async () => {
    const app = await start('npm', ['start', '--silent'], dataDir());
    try {
      // Listening comes first; readiness follows once the embedded database is migrated.
      const ready = await waitFor('ready', async () => {
        const r = await fetch(`${app.url}/health/ready`);
        return r.status === 200 ? r : undefined;
      }, 60_000);
      const body = (await ready.json()) as { ready: boolean; role: string; parts: Array<{ name: string; state: string }> };
      expect(body).toMatchObject({ ready: true, role: 'all' });
      expect(body.parts.map((p) => p.name).sort()).toEqual(['accounts', 'broker', 'broker-admin', 'cache', 'consumer.high_priority', 'consumer.low_priority', 'consumer.normal', 'consumer.urgent', 'control', 'control-plane', 'customer-data', 'dashboard', 'directory', 'embedded-postgres', 'fcm-pool', 'inbox', 'job-reaper', 'live-hub', 'meter-data', 'meters', 'node-registry', 'notification-jobs', 'objects', 'on-call', 'outbox-relay', 'postgres', 'queue-pauses', 'reference', 'request-janitor', 'requests', 'sic-registrar', 'sms', 'source-bi_ods', 'source-histh2mc', 'source-sic']);
      // Optional parts that started before the database (the outbox relay) catch up on their own backoff.
      await waitFor('every part running', async () => {
        const r = (await (await fetch(`${app.url}/health/ready`)).json()) as { parts: Array<{ state: string }> };
        return r.parts.every((p) => p.state === 'running');
      }, 30_000);

      const missing = await fetch(`${app.url}/v1/nothing-here`, { method: 'POST' });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND', status: 404 });

      const docs = await fetch(`${app.url}/docs`);
      expect(docs.status).toBe(200);

      // The demo accounts it printed work as printed.
      const customer = /customer POST \S+ {2}phone=(\S+) {2}pin=(\S+)/.exec(app.output());
      const admin = /admin +POST \S+ {2}login=(\S+) {2}password=(\S+)/.exec(app.output());
      expect(customer && admin).toBeTruthy();
      const post = (path: string, body: object) =>
        fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const device = { deviceModel: 'e2e', platform: 'web' };
      const customerLogin = await waitFor('demo seeded', async () => {
        const r = await post('/v1/auth/login', { phone: customer![1], pin: customer![2], ...device });
        return r.status === 200 ? r : undefined;
      });
      const customerAuth = { authorization: `Bearer ${((await customerLogin.json()) as { accessToken: string }).accessToken}` };
      const me = await fetch(`${app.url}/v1/me`, { headers: customerAuth });
      expect(await me.json()).toMatchObject({ phone: customer![1], role: 'customer' });

      // The app's main screens on the demo's utility data: the customer's two meters, linked at start, and their data.
      const get = async <T>(path: string): Promise<T> => {
        const r = await fetch(`${app.url}${path}`, { headers: customerAuth });
        expect(r.status, path).toBe(200);
        return (await r.json()) as T;
      };
      type Link = { id: string; kind: string; state: string; owner: boolean; isDefault: boolean };
      const links = await waitFor('demo meters linked', async () => {
        const l = await get<{ items: Link[] }>('/v1/me/meters');
        return l.items.length === 2 ? l.items : undefined;
      });
      expect(links.map((l) => [l.kind, l.state, l.owner, l.isDefault])).toEqual([['prepaid', 'active', true, true], ['postpaid', 'active', true, false]]);
      const purchases = await get<{ purchases: Array<{ tokens: string[] }> }>(`/v1/meters/${links[0]!.id}/purchases`);
      expect(purchases.purchases).toHaveLength(10);
      for (const p of purchases.purchases) expect(p.tokens).toHaveLength(3);
      expect((await get<{ bills: unknown[] }>(`/v1/meters/${links[1]!.id}/bills`)).bills).toHaveLength(6);
      expect(await get(`/v1/meters/${links[1]!.id}/contract`)).toMatchObject({ kind: 'postpaid', contractAccount: '300000000001' });
      const steps = await fetch(`${app.url}/v1/subscriptions/400000000001?phone=${encodeURIComponent(customer![1]!)}`);
      expect(((await steps.json()) as { steps: unknown[] }).steps).toHaveLength(4);
      // A request with a photo, stored by the in-process s3rver through the production client, and its download link.
      const photo = sampleFile('png', 4096);
      const form = new FormData();
      form.append('type', 'meter_problem');
      form.append('comment', 'The meter shows an error');
      form.append('linkId', links[0]!.id);
      form.append('file', new Blob([photo], { type: 'image/png' }), 'meter.png');
      const filed = await fetch(`${app.url}/v1/requests`, { method: 'POST', headers: customerAuth, body: form });
      expect(filed.status, await filed.clone().text()).toBe(201);
      const request = (await filed.json()) as { id: string; attachment: { contentType: string; bytes: number } };
      expect(request.attachment).toMatchObject({ contentType: 'image/png', bytes: photo.length });
      const { url } = await get<{ url: string }>(`/v1/requests/${request.id}/attachment`);
      const download = await fetch(url);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);
      const adminLogin = await post('/v1/auth/agent-login', { login: admin![1], password: admin![2], ...device });
      expect(adminLogin.status).toBe(200);
      const tree = await fetch(`${app.url}/admin/supervisors`, { headers: { authorization: `Bearer ${((await adminLogin.json()) as { accessToken: string }).accessToken}` } });
      expect(tree.status).toBe(200);
    } finally {
      // npm's shell does not pass a signal on to the server: signal the group, as a terminal does.
      process.kill(-app.child.pid!, 'SIGTERM');
    }
    await app.exited;
    // npm may report the signal as its own exit; the server's own exit code is in its log.
    expect(app.output()).toMatch(/"exitCode":0,"msg":"stopped"/);
  }, 180_000);

  /** Starts the built server with the test keys and holds one admin request in flight (body not sent yet). */
  async function startWithRequestInFlight() {
    const app = await start(process.execPath, ['dist/src/main.js'], dataDir(), { JWT_PUBLIC_KEYS: JSON.stringify(TEST_JWKS), SHUTDOWN_TIMEOUT_MS: '600000' });
    await waitFor('ready', async () => (await fetch(`${app.url}/health/ready`)).status === 200, 60_000);
    const { hostname, port } = new URL(app.url);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise((r) => socket.once('connect', r));
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const body = JSON.stringify({ reason: 'e2e shutdown test' });
    const token = await mintToken({ role: 'admin' });
    // Keep-alive (no Connection: close) and Expect: 100-continue: the server's "100 Continue" proves the
    // request is in its hands, waiting for the body.
    socket.write(
      `POST /admin/supervisors/resources/restart HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await waitFor('100 Continue', () => response.includes('100 Continue'));
    return { app, socket, body, response: () => response };
  }

  it('on SIGTERM lets an in-flight keep-alive request finish, closes its connection, then exits 0', async () => {
    const { app, socket, body, response } = await startWithRequestInFlight();
    const ended = new Promise((r) => socket.once('close', r));
    app.child.kill('SIGTERM');
    await waitFor('shutting down', () => /shutting down/.test(app.output()));
    expect((await fetch(`${app.url}/health/live`).catch((e: unknown) => e)) instanceof Error).toBe(true); // no new connections
    socket.write(body);
    await ended; // the server closed the keep-alive connection after the response, instead of idling
    expect(response()).toMatch(/HTTP\/1\.1 202 Accepted/);
    expect(response()).toMatch(/connection: close/i);
    // SHUTDOWN_TIMEOUT_MS is ten minutes: exiting at all proves nothing waited for it.
    expect(await app.exited).toBe(0);
  }, 90_000);

  it('exits 1 at once on a second signal while a request is still in flight', async () => {
    const { app, socket } = await startWithRequestInFlight();
    app.child.kill('SIGTERM');
    await waitFor('shutting down', () => /shutting down/.test(app.output()));
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/second signal/);
    socket.destroy();
  }, 90_000);

  it('exits 2 with one line per configuration problem', async () => {
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'eighty', ROLE: 'cook', DATABASE_URL: 'mysql://x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    const lines = err.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(err).toMatch(/^config: PORT: /m);
    expect(err).toMatch(/^config: ROLE: /m);
    expect(err).toMatch(/^config: DATABASE_URL: /m);
  }, 60_000);
});
