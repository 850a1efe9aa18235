// bench/RESULTS.md: each benchmark owns one "## name" section and replaces only that one.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/** Replaces the "## name" section (up to the next "## " heading) or appends it. */
export function replaceSection(doc: string, name: string, section: string): string {
  const lines = doc.split('\n');
  const startIdx = lines.findIndex((l) => l.trim() === `## ${name}`);
  if (startIdx < 0) {
    const base = doc.trim() ? `${doc.replace(/\s*$/, '')}\n\n` : '# Benchmark results\n\n';
    return `${base}${section}`;
  }
  let end = lines.findIndex((l, i) => i > startIdx && /^##?\s/.test(l));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, startIdx).join('\n');
  const after = lines.slice(end).join('\n');
  return `${before ? `${before}\n` : ''}${section}${after ? `\n${after}` : ''}`.replace(/\n{3,}/g, '\n\n');
}

/** Writes one benchmark's section into bench/RESULTS.md; returns the file's path. */
export function writeResultsSection(name: string, section: string): string {
  writeFileSync(RESULTS_FILE, replaceSection(existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : '', name, section));
  return RESULTS_FILE;
}
