// Prometheus's own check of an exposition body: `promtool check metrics` reads it on stdin (promtool is installed by
// ops/services/install.sh). Measured with promtool 2.42.0 (Debian 12), which has no --lint flag:
//   - a body that does not parse: exit 1, "error while linting: text format parsing error in line N: …" on stderr;
//   - a body that parses but has lint findings (a counter without _total, a gauge with it, a family without HELP…):
//     exit 3, one finding per line on stderr ("<family> <problem>");
//   - a clean body: exit 0, no output. Nothing is ever written to stdout.
// A finding is reported only after the whole body parsed, so exit 3 also means "no parse error".
import { spawn } from 'node:child_process';

export interface PromtoolResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const PROMTOOL = '/usr/bin/promtool';

/** `promtool check metrics` with `body` on stdin (asynchronous: the node under test shares this event loop). */
export function promtoolCheckMetrics(body: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
    child.stdin.on('error', () => undefined); // promtool may stop reading at a parse error: its exit code tells
    child.stdin.end(body);
  });
}

/**
 * What is wrong with `body` for promtool, besides the lint findings listed in `tolerated` (whole lines of its
 * output): a parse error, an unexpected exit code, or any other lint finding. Empty when promtool accepts it.
 */
export async function promtoolProblems(body: string, tolerated: readonly string[] = []): Promise<string[]> {
  const { exitCode, stdout, stderr } = await promtoolCheckMetrics(body);
  if (exitCode === 0) return [];
  if (exitCode !== 3) return [`promtool check metrics exited ${exitCode}: ${`${stderr}${stdout}`.trim()}`];
  const findings = `${stderr}${stdout}`.split('\n').filter((l) => l.trim() !== '');
  return findings.filter((f) => !tolerated.includes(f));
}
