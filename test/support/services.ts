// Test helpers over the real services: typed settings, one database per test file, private Redis instances.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { TEMPLATE_DATABASE, type ServicesEnv, toServicesEnv } from './services-env.js';
import { freePort } from './free-port.js';

export type { ServicesEnv } from './services-env.js';

export const DEFAULT_SERVICES_DIR = fileURLToPath(new URL('../../.services', import.meta.url));

/** The services' settings; throws a clear error when `ops/services.sh start` has not run. */
export function servicesEnv(): ServicesEnv {
  return toServicesEnv(inject('services'));
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  /** Drops the database, disconnecting anyone still connected; safe to call twice. */
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template: every table exists and reference rows are seeded. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(`TEMPLATE ${TEMPLATE_DATABASE}`);
}

/** A fresh database with no migrations applied, for tests of the migrations themselves. */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return createDatabase('');
}

async function createDatabase(clause: string): Promise<TestDatabase> {
  const adminUrl = servicesEnv().TEST_DATABASE_URL;
  // The run's pid in the name lets a later global setup tell leftovers of dead runs from live databases.
  const name = `t_${inject('servicesRunPid')}_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name} ${clause}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      // Connections a test just closed may still be on their way out; FORCE would send them a FATAL that an
      // ending pg client reports as an 'error' event (an uncaught error if its pool has no listener). Give them
      // a moment to leave first; FORCE then only ends real leftovers.
      await waitForNoConnections(adminUrl, name, 2_000);
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function waitForNoConnections(adminUrl: string, database: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [database]);
      if (rows[0]!.n === 0 || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await client.end();
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Graceful shutdown (SIGTERM); resolves once the process has exited. */
  stop(): Promise<void>;
  /** Crash (SIGKILL); resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts again on the same port; resolves once it answers PING. */
  start(): Promise<void>;
}

// Private instances still alive when the worker exits are killed, so an aborted test leaves nothing behind.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** A Redis of the test's own (free loopback port, folder under .services/private/) that it may stop or kill. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const env = servicesEnv();
  const port = await freePort();
  const dir = join(env.TEST_SERVICES_DIR ?? DEFAULT_SERVICES_DIR, 'private', `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'), '--dir', dir];
  let child: ChildProcess | undefined;

  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async (): Promise<void> => {
    if (running()) throw new Error(`private redis on port ${port} is already running`);
    const started = spawn(env.TEST_REDIS_SERVER_BIN, args, { stdio: 'ignore' });
    child = started;
    liveChildren.add(started);
    started.once('exit', () => liveChildren.delete(started));
    const deadline = Date.now() + 5_000;
    while (!(await redisPing(port))) {
      if (!running()) throw new Error(`private redis on port ${port} exited at start; see ${dir}/redis.log`);
      if (Date.now() > deadline) throw new Error(`private redis on port ${port} did not answer PING within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (!current || !running()) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.kill(sig);
    await exited;
  };

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, start, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}


/** One PING over a raw socket: true on +PONG, false on refusal, error or 1 s of silence. */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
  });
}
