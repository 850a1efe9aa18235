// Copies the files tsc does not emit next to the compiled code: the SQL migrations (dist/src/migrations) and the
// on-call dashboard's page and browser files (dist/http/dashboard).
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Copies `from`'s files whose names end with one of `endings` into `to`, emptied first; returns how many. */
function copyFolder(from, to, endings) {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const files = readdirSync(from).filter((name) => endings.some((e) => name.endsWith(e)));
  for (const name of files) copyFileSync(join(from, name), join(to, name));
  return files.length;
}

// Cleaned first so a migration deleted from src cannot linger in dist and be applied.
const migrations = join(repo, 'dist', 'src', 'migrations');
const sql = copyFolder(join(repo, 'src', 'migrations'), migrations, ['.sql']);
console.log(`copy-assets: ${sql} migration(s) copied to ${migrations}`);
const dashboard = join(repo, 'dist', 'http', 'dashboard');
const pages = copyFolder(join(repo, 'http', 'dashboard'), dashboard, ['.html', '.js', '.css', '.svg']);
console.log(`copy-assets: ${pages} dashboard file(s) copied to ${dashboard}`);
