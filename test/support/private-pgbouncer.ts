// A PgBouncer of the test's own, in transaction pooling mode, in front of one database of the shared PostgreSQL.
// PgBouncer refuses to run as root, so under root it runs as `postgres` (runuser) from `/`, with its files in a
// fresh folder under the OS temp dir owned by that user (the postgres user may not be able to enter the checkout).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { servicesEnv } from './services.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface PgBouncerTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export interface PrivatePgBouncer {
  /** postgres://postgres@127.0.0.1:<port>/<database> (with the config's user and password when given): the target database, through PgBouncer. */
  readonly url: string;
  readonly port: number;
  /** Folder of the ini, auth file, log and pid file. */
  readonly dir: string;
  /** PgBouncer's log so far (for assertions and error messages). */
  log(): string;
  /** Stops PgBouncer (SIGTERM, SIGKILL after 5 s), waits for it to exit and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

/** Pool size PgBouncer keeps per database/user pair: small, so that transactions really share server connections. */
export const PGBOUNCER_POOL_SIZE = 3;

const START_TIMEOUT_MS = 10_000;

// Process groups still alive when the worker exits are killed, so an aborted test leaves no PgBouncer behind.
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}


/** The files a PgBouncer configuration must point at (the test's own folder and port). */
export interface PgBouncerFiles {
  readonly port: number;
  readonly authFile: string;
  readonly logFile: string;
  readonly pidFile: string;
}

/** Another configuration than the default one: its ini (given the test's files) and the client's password login. */
export interface PgBouncerConfig {
  ini(files: PgBouncerFiles): string;
  readonly user: string;
  readonly password: string;
}

export async function startPrivatePgBouncer(target: PgBouncerTarget, config?: PgBouncerConfig): Promise<PrivatePgBouncer> {
  const bin = servicesEnv().TEST_PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';
  if (!existsSync(bin)) throw new Error(`PgBouncer not found at ${bin}: run \`bash ops/services.sh start\` (it installs pgbouncer)`);
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'samaconso-pgbouncer-'));
  const port = await freePort();
  const ini = join(dir, 'pgbouncer.ini');
  const users = join(dir, 'users.txt');
  const logFile = join(dir, 'pgbouncer.log');
  const pidFile = join(dir, 'pgbouncer.pid');
  const name = target.database;

  writeFileSync(users, config ? `"${config.user}" "${config.password}"\n` : '"postgres" ""\n');
  writeFileSync(
    ini,
    config?.ini({ port, authFile: users, logFile, pidFile }) ?? [
      '[databases]',
      `${name} = host=${target.host} port=${target.port} dbname=${target.database}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'max_client_conn = 100',
      `default_pool_size = ${PGBOUNCER_POOL_SIZE}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      // Deliberately empty: node-postgres sends only user, database and application_name, which PgBouncer knows.
      // Any other startup parameter the app starts sending (statement_timeout, options …) then fails here with 08P01,
      // as it would behind a stock PgBouncer.
      'ignore_startup_parameters =',
      `logfile = ${logFile}`,
      `pidfile = ${pidFile}`,
      'log_connections = 1',
      'log_disconnections = 1',
      '',
    ].join('\n'),
  );
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    for (const path of [dir, ini, users]) chownSync(path, uid, gid);
  }

  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '(no log written)';
    }
  };
  const tail = (): string => readLog().trimEnd().split('\n').slice(-20).join('\n');

  // Foreground (no -d): the child is ours to stop. Under root, runuser forwards SIGTERM to PgBouncer; the whole
  // process group (detached) is signalled anyway so that SIGKILL reaches PgBouncer too.
  const child: ChildProcess = spawn(asRoot ? 'runuser' : bin, asRoot ? ['-u', 'postgres', '--', bin, ini] : [ini], {
    cwd: '/',
    stdio: 'ignore',
    detached: true,
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`could not spawn ${bin}`);
  liveGroups.add(pgid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => liveGroups.delete(pgid));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  // PgBouncer's own pid (from its pid file): signalling it alone lets runuser reap it and exit at once, whereas a
  // SIGTERM to runuser makes it wait 2 s before it gives up on its child.
  const bouncerPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (running()) {
        const pid = bouncerPid();
        if (pid === undefined) killGroup(pgid, 'SIGTERM');
        else process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      killGroup(pgid, 'SIGKILL'); // anything left of the group, should runuser have gone first
      liveGroups.delete(pgid);
      rmSync(dir, { recursive: true, force: true });
    })());

  const login = config ? `${encodeURIComponent(config.user)}:${encodeURIComponent(config.password)}` : 'postgres';
  const url = `postgres://${login}@127.0.0.1:${port}/${name}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    if (!running()) {
      const log = tail();
      await stop();
      throw new Error(`PgBouncer exited at start (code ${child.exitCode}, signal ${child.signalCode}); log:\n${log}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      break;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      const log = tail();
      await stop();
      throw new Error(`PgBouncer on 127.0.0.1:${port} did not serve ${name} within ${START_TIMEOUT_MS} ms (last error: ${String(lastError)}); log:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return { url, port, dir, log: readLog, stop };
}
