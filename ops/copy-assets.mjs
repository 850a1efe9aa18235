// Copies the files tsc does not emit (SQL migrations) next to the compiled code: dist/src/migrations.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(repo, 'src', 'migrations');
const to = join(repo, 'dist', 'src', 'migrations');

// Cleaned first so a migration deleted from src cannot linger in dist and be applied.
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
const files = readdirSync(from).filter((name) => name.endsWith('.sql'));
for (const name of files) copyFileSync(join(from, name), join(to, name));
console.log(`copy-assets: ${files.length} migration(s) copied to ${to}`);
