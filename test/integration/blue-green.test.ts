// ops/deploy/blue-green.sh on a stand-in API host: systemctl and the load balancer's switch are recording stubs,
// each colour's /health/ready is a real HTTP listener on the colour's port. Shows the order (migrate, start, ready,
// then switch), that nothing switches when the new colour fails, and rollback and finish.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '../../ops/deploy/blue-green.sh');

describe('blue-green.sh', () => {
  const host = mkdtempSync(join(tmpdir(), 'samaconso-bluegreen-'));
  const root = join(host, 'opt');
  const etc = join(host, 'etc');
  const bin = join(host, 'bin');
  const calls = join(host, 'calls.log');
  const readiness: Record<string, number> = { blue: 200, green: 200 };
  const servers: Server[] = [];

  beforeAll(async () => {
    for (const dir of [root, etc, bin, join(root, 'releases/v1'), join(root, 'releases/v2')]) mkdirSync(dir, { recursive: true });
    for (const colour of ['blue', 'green']) {
      const server = createServer((req, res) => res.writeHead(req.url === '/health/ready' ? readiness[colour]! : 404).end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      writeFileSync(join(etc, `api-${colour}.env`), `PORT=${(server.address() as AddressInfo).port}\nOPS_PORT=9464\n`);
    }
    // systemctl: records the call; fails for the unit named in FAIL_UNIT.
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >>"${calls}"\n[ "$2" != "$FAIL_UNIT" ]\n`);
    writeFileSync(join(bin, 'lb-switch'), `#!/bin/sh\necho "lb-switch $*" >>"${calls}"\n`);
    for (const f of ['systemctl', 'lb-switch']) chmodSync(join(bin, f), 0o755);
    writeFileSync(join(etc, 'blue-green.env'), `LB_SWITCH_COMMAND=${join(bin, 'lb-switch')}\n`);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(host, { recursive: true, force: true });
  });
  beforeEach(() => {
    writeFileSync(calls, '');
    readiness.blue = readiness.green = 200;
  });

  const port = (colour: string) => /PORT=(\d+)/.exec(readFileSync(join(etc, `api-${colour}.env`), 'utf8'))![1];
  const log = () => readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
  const active = () => readFileSync(join(etc, 'active-colour'), 'utf8').trim();
  async function script(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
    try {
      const { stdout, stderr } = await run('bash', [SCRIPT, ...args], {
        env: { PATH: `${bin}:/usr/bin:/bin`, SAMACONSO_ROOT: root, SAMACONSO_ETC: etc, READY_TIMEOUT_S: '3', ...env },
      });
      return { code: 0, out: `${stdout}${stderr}` };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: `${e.stdout}${e.stderr}` };
    }
  }

  it('deploys to the idle colour: migrate, start, wait until ready, then switch the load balancer; the old colour keeps running', async () => {
    const done = await script(['deploy', 'v2', '--migrate']);
    expect(done, done.out).toMatchObject({ code: 0 });
    expect(readlinkSync(join(root, 'green'))).toBe(join(root, 'releases/v2'));
    expect(log()).toEqual(['systemctl start samaconso-migrate@green.service', 'systemctl restart samaconso-api@green.service', `lb-switch green ${port('green')}`]);
    expect(active()).toBe('green');
  });

  it('rolls back by switching to the previous colour, and finish stops the previous one', async () => {
    const back = await script(['rollback']);
    expect(back, back.out).toMatchObject({ code: 0 });
    expect(log()).toEqual([`lb-switch blue ${port('blue')}`]);
    expect(active()).toBe('blue');

    writeFileSync(calls, '');
    const finished = await script(['finish']);
    expect(finished, finished.out).toMatchObject({ code: 0 });
    expect(log()).toEqual(['systemctl stop samaconso-api@green.service']);
    expect(active()).toBe('blue');
  });

  it('does not switch when the new colour never becomes ready, nor start it when the migrations fail', async () => {
    readiness.green = 503;
    const unready = await script(['deploy', 'v2']);
    expect(unready.code).toBe(1);
    expect(unready.out).toContain('samaconso-api@green not ready within 3 s; blue still serves');
    expect(log()).toEqual(['systemctl restart samaconso-api@green.service']);
    expect(active()).toBe('blue');

    writeFileSync(calls, '');
    const failed = await script(['deploy', 'v2', '--migrate'], { FAIL_UNIT: 'samaconso-migrate@green.service' });
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('migrations failed: nothing switched, blue still serves');
    expect(log()).toEqual(['systemctl start samaconso-migrate@green.service']);
    expect(active()).toBe('blue');
  });

  it('refuses to roll back to a colour that is not ready (stopped by finish)', async () => {
    writeFileSync(join(etc, 'previous-colour'), 'green\n');
    readiness.green = 503;
    const refused = await script(['rollback']);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('green is not ready');
    expect(log()).toEqual([]);
    expect(active()).toBe('blue');
  });
});
