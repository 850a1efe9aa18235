// ops/cli.mjs, what `npm run check-health`, `send-test-notification` and `migrate` call: in a release (dist/ and the
// production dependencies, no compiler) it runs the shipped build; in a checkout it builds first. Each case is a real
// folder laid out as one or the other, with the launcher copied in and a stand-in tool that reports what it got.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const LAUNCHER = new URL('../../../ops/cli.mjs', import.meta.url).pathname;
const TOOL = `process.stdout.write(JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd() })); process.exit(7);`;

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function folder(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'cli-launcher-'));
  dirs.push(root);
  await mkdir(join(root, 'ops'), { recursive: true });
  await copyFile(LAUNCHER, join(root, 'ops', 'cli.mjs'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

function launch(root: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'ops', 'cli.mjs'), ...args], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('ops/cli.mjs', () => {
  it('in a release runs the shipped tool from the release folder with its arguments, and exits with its code', async () => {
    const root = await folder({ 'package.json': '{"type":"module"}', 'dist/src/cli/check-health.js': TOOL });
    const { code, out } = await launch(root, ['check-health', '--url', 'https://api.example']);
    expect(code).toBe(7);
    expect(JSON.parse(out)).toEqual({ args: ['--url', 'https://api.example'], cwd: root });
  });

  it('in a checkout builds first, then runs what the build made', async () => {
    const build = `import { mkdirSync, writeFileSync } from 'node:fs'; mkdirSync('dist/src/cli', { recursive: true }); writeFileSync('dist/src/cli/send-test-notification.js', ${JSON.stringify(TOOL)});`;
    const root = await folder({
      'package.json': JSON.stringify({ type: 'module', scripts: { build: 'node build.mjs' } }),
      'tsconfig.build.json': '{}',
      'build.mjs': build,
    });
    const { code, out } = await launch(root, ['send-test-notification', '--user', '+221770000000']);
    expect(code).toBe(7);
    expect(JSON.parse(out).args).toEqual(['--user', '+221770000000']);
  });

  it('does not run a stale tool when the build fails', async () => {
    const root = await folder({
      'package.json': JSON.stringify({ type: 'module', scripts: { build: 'node -e "process.exit(3)"' } }),
      'tsconfig.build.json': '{}',
      'dist/src/cli/check-health.js': TOOL,
    });
    const { code, out, err } = await launch(root, ['check-health']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('the build failed');
  });

  it('refuses an unknown tool (2) and says what is missing from an incomplete release (1)', async () => {
    const root = await folder({ 'package.json': '{}' });
    const unknown = await launch(root, ['rm-rf']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('usage: node ops/cli.mjs <migrate|check-health|send-test-notification>');
    const missing = await launch(root, ['migrate']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(join('dist', 'src', 'cli', 'migrate.js'));
  });
});
