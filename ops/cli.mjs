#!/usr/bin/env node
// Runs one of the project's command-line tools the same way in a checkout and in a release:
//   node ops/cli.mjs <migrate|check-health|send-test-notification> [arguments…]   (what the npm scripts call)
// In a checkout (tsconfig.build.json beside package.json) it builds first, so what runs is never older than the
// sources. A release holds dist/, package.json, this file and the production node_modules only (no compiler): there
// it runs dist/ as shipped. The tool's exit code is this process's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOLS = ['migrate', 'check-health', 'send-test-notification'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [tool, ...args] = process.argv.slice(2);

if (!TOOLS.includes(tool ?? '')) {
  process.stderr.write(`usage: node ops/cli.mjs <${TOOLS.join('|')}> [arguments…]\n`);
  process.exit(2);
}
if (existsSync(join(root, 'tsconfig.build.json'))) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) {
    process.stderr.write(`ops/cli.mjs: the build failed (npm run build exited ${build.status ?? build.signal}); ${tool} not run\n`);
    process.exit(1);
  }
}
const script = join(root, 'dist', 'src', 'cli', `${tool}.js`);
if (!existsSync(script)) {
  process.stderr.write(`ops/cli.mjs: ${script} is missing: this is neither a checkout nor a complete release\n`);
  process.exit(1);
}
const run = spawnSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
if (run.signal) process.kill(process.pid, run.signal);
process.exit(run.status ?? 1);
