// A PostgreSQL cluster of the test's own (initdb ~0.5 s) that it may stop and start again on the same port.
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { servicesEnv } from './services.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface PrivatePostgres {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}


/** Runs a PostgreSQL binary as the postgres user (initdb and the server refuse root). */
async function asPostgres(bin: string, args: string[]): Promise<void> {
  const cmd = process.getuid?.() === 0 ? 'runuser' : bin;
  const argv = process.getuid?.() === 0 ? ['-u', 'postgres', '--', bin, ...args] : args;
  await run(cmd, argv, { timeout: 30_000 });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = servicesEnv().TEST_PG_BIN_DIR;
  const base = mkdtempSync(join(tmpdir(), 'samaconso-pg-'));
  const data = join(base, 'data');
  mkdirSync(data);
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(base, Number(stdout.trim()), Number(gid.trim()));
    chownSync(data, Number(stdout.trim()), Number(gid.trim()));
  }
  const port = await freePort();
  await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const start = () =>
    asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', join(base, 'log'), '-o', `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const stop = () => asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-w', '-m', 'immediate', 'stop']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
