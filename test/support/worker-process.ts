// A worker (or api) node in its own process, from the TypeScript sources, for tests that kill it for real.
import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_JWKS, TEST_SIGNING_JWK } from './tokens.js';
import { waitFor } from './wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface NodeProcess {
  readonly child: ChildProcess;
  /** http://host:port of the ops listener (health, metrics). */
  readonly opsUrl: string;
  /** http://host:port of the API listener (roles api and all). */
  readonly apiUrl: string | undefined;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process and its pipes closed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startNodeProcess(role: 'worker' | 'api' | 'all', env: Record<string, string>, timeoutMs = 30_000): Promise<NodeProcess> {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    APP_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    OPS_PORT: '0',
    LOG_LEVEL: 'warn',
    JWT_PUBLIC_KEYS: JSON.stringify(TEST_JWKS),
    JWT_SIGNING_KEY: TEST_SIGNING_JWK,
    AUTH_SECRET: 'test-secret-test-secret-test-secret!',
    ...env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--role', role], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  const opsUrl = await waitFor(
    `${role} process listening`,
    () => {
      if (gone) throw new Error(`${role} process exited before listening:\n${out}`);
      return /ops \(health, metrics\) on (http:\/\/\S+)/.exec(out)?.[1];
    },
    timeoutMs,
  );
  // main.ts prints the API's address before the ops one.
  const apiUrl = /listening on (http:\/\/\S+)/.exec(out)?.[1];
  return { child, opsUrl, apiUrl, output: () => out, exited };
}

/** A node process under `nodeId`, once its ops port says ready (for a worker: every consumer attached). */
export async function startReadyNodeProcess(role: 'worker' | 'api' | 'all', nodeId: string, env: Record<string, string>, timeoutMs = 60_000): Promise<NodeProcess> {
  const p = await startNodeProcess(role, { ...env, NODE_ID: nodeId }, timeoutMs);
  await waitFor(`${nodeId} ready`, async () => (await fetch(`${p.opsUrl}/health/ready`)).status === 200, timeoutMs).catch((e: unknown) => {
    p.child.kill('SIGKILL');
    throw new Error(`${String(e)}; output:\n${p.output().slice(-3000)}`);
  });
  return p;
}

/** Ends a node process for good (SIGCONT first: a stopped process cannot die), and waits for it. */
export async function killNodeProcess(p: NodeProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGCONT');
    p.child.kill('SIGKILL');
  }
  await p.exited;
}
