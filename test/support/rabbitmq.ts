// RabbitMQ for integration tests: the node of ops/services.sh is shared, so each test file works in a vhost of
// its own (created and deleted through rabbitmqctl, the management plugin being off), and may cut its clients'
// connections as a broker restart would.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { servicesEnv } from './services.js';

const DEFAULT_SERVICES_DIR = fileURLToPath(new URL('../../.services', import.meta.url));
// The scripts themselves: /usr/sbin/rabbitmqctl would switch to the rabbitmq user and lose the node's cookie.
const CTL = existsSync('/usr/lib/rabbitmq/bin/rabbitmqctl') ? '/usr/lib/rabbitmq/bin/rabbitmqctl' : 'rabbitmqctl';

/** Runs rabbitmqctl against the test node (its Erlang cookie is in the node's folder, hence HOME). */
export function rabbitmqctl(args: readonly string[], timeoutMs = 30_000): Promise<string> {
  const env = servicesEnv();
  const home = join(env.TEST_SERVICES_DIR ?? DEFAULT_SERVICES_DIR, 'rabbitmq');
  return new Promise((resolve, reject) => {
    execFile(CTL, ['-n', env.TEST_RABBITMQ_NODE, '-q', ...args], { env: { ...process.env, HOME: home }, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`rabbitmqctl ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

export interface TestVhost {
  readonly name: string;
  /** TEST_AMQP_URL with this vhost. */
  readonly url: string;
  /** Closes every client connection to this vhost, as a broker restart would for its clients. */
  closeConnections(reason?: string): Promise<void>;
  /** Names of the client connections open on this vhost now. */
  connections(): Promise<string[]>;
  /** Deletes the vhost and all its queues; safe to call twice. */
  delete(): Promise<void>;
}

let leftoversSwept = false;

/** A fresh vhost on the shared node, with the test user's full permissions on it. */
export async function createTestVhost(): Promise<TestVhost> {
  const env = servicesEnv();
  const runPid = inject('servicesRunPid');
  if (!leftoversSwept) {
    leftoversSwept = true;
    await sweepVhostsOfGoneRuns();
  }
  const name = `t_${runPid}_${randomBytes(6).toString('hex')}`;
  const base = new URL(env.TEST_AMQP_URL);
  const user = decodeURIComponent(base.username) || 'guest';
  await rabbitmqctl(['add_vhost', name]);
  await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  const url = new URL(env.TEST_AMQP_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  let deleted = false;
  return {
    name,
    url: url.toString(),
    closeConnections: async (reason = 'closed by the test') => {
      await rabbitmqctl(['close_all_connections', '--vhost', name, reason]);
    },
    connections: async () => {
      const out = await rabbitmqctl(['list_connections', 'vhost', 'client_properties', '--formatter', 'json']);
      const rows = JSON.parse(out || '[]') as Array<{ vhost: string; client_properties: unknown }>;
      return rows.filter((r) => r.vhost === name).map((r) => connectionName(r.client_properties));
    },
    delete: async () => {
      if (deleted) return;
      deleted = true;
      await rabbitmqctl(['delete_vhost', name]).catch(() => undefined);
    },
  };
}

/** The connection_name a client gave, from rabbitmqctl's client_properties column. */
export function connectionName(props: unknown): string {
  // rabbitmqctl's JSON renders the client properties as [name, type, value] triples.
  if (Array.isArray(props)) for (const p of props) if (Array.isArray(p) && p[0] === 'connection_name') return String(p[2]);
  if (props && typeof props === 'object' && 'connection_name' in props) return String((props as Record<string, unknown>)['connection_name']);
  return '';
}

/** Vhosts named t_<pid>_… whose test run is gone (a killed run never deleted them). */
async function sweepVhostsOfGoneRuns(): Promise<void> {
  const out = await rabbitmqctl(['list_vhosts', '--no-table-headers', 'name']);
  for (const line of out.split('\n')) {
    const vhost = line.trim();
    const pid = Number(/^t_(\d+)_[0-9a-f]+$/.exec(vhost)?.[1]);
    if (pid && !isAlive(pid)) await rabbitmqctl(['delete_vhost', vhost]).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
