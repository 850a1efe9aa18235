// Smoke test of `npm start` on embedded defaults: the whole process, as a fresh clone runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], dataDir: string): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', OPS_PORT: '0', EMBEDDED_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'JWT_PUBLIC_KEYS', 'APP_ENV', 'ROLE']) delete env[k];
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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

  it('builds, serves /health/ready with every part, answers problem+json, and exits 0 on SIGTERM', async () => {
    const app = await start('npm', ['start', '--silent'], dataDir());
    try {
      const ready = await fetch(`${app.url}/health/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { ready: boolean; role: string; parts: Array<{ name: string; state: string }> };
      expect(body).toMatchObject({ ready: true, role: 'all' });
      expect(body.parts.map((p) => p.name).sort()).toEqual(['cache', 'control', 'embedded-postgres', 'postgres', 'reference']);
      expect(body.parts.every((p) => p.state === 'running')).toBe(true);

      const missing = await fetch(`${app.url}/v1/nothing-here`, { method: 'POST' });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND', status: 404 });

      const docs = await fetch(`${app.url}/docs`);
      expect(docs.status).toBe(200);
    } finally {
      app.child.kill('SIGTERM');
    }
    expect(await app.exited).toBe(0);
    expect(app.output()).toMatch(/"msg":"stopped"/);
  }, 180_000);

  it('exits non-zero at once on a second signal', async () => {
    const app = await start(process.execPath, ['dist/src/main.js'], dataDir());
    app.child.kill('SIGTERM');
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/second signal/);
  }, 60_000);

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
