// A private RabbitMQ node for tests that restart or stop the broker (the shared node serves every test file at
// once). Booted like ops/services.sh does (FACTS.md "RabbitMQ"): its own node name, ports, mnesia and HOME
// (Erlang cookie), on loopback. A restart is a real one: the node stops and boots again from disk, so durable
// quorum queues and their messages survive and every client connection is cut.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { servicesEnv } from './services.js';

const run = promisify(execFile);
const BIN = '/usr/lib/rabbitmq/bin';

export interface PrivateRabbitmq {
  /** amqp://guest:guest@127.0.0.1:PORT */
  readonly url: string;
  readonly node: string;
  /** Stops the node (clients see their connections close); resolves once it is down. */
  stop(): Promise<void>;
  /** Boots the node again on the same ports and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Runs rabbitmqctl against this node. */
  ctl(args: readonly string[]): Promise<string>;
  /** Stops the node and removes its files. */
  destroy(): Promise<void>;
}

export async function startPrivateRabbitmq(): Promise<PrivateRabbitmq> {
  const id = randomBytes(4).toString('hex');
  const dir = join(servicesEnv().TEST_SERVICES_DIR ?? '.services', 'private', `rabbitmq-${id}`);
  mkdirSync(join(dir, 'log'), { recursive: true });
  mkdirSync(join(dir, 'mnesia'), { recursive: true });
  const [port, distPort] = [await freePort(), await freePort()];
  const node = `samaconso-priv-${id}@localhost`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'enabled_plugins'), '[].');
  const ctl = async (args: readonly string[]): Promise<string> => (await run(join(BIN, 'rabbitmqctl'), ['-n', node, ...args], { env, timeout: 90_000 })).stdout;
  let up = false;
  const start = async (): Promise<void> => {
    await run(join(BIN, 'rabbitmq-server'), ['-detached'], { env, timeout: 30_000 });
    // await_startup fails (69) until the node registered with epmd: loop on it.
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        await ctl(['-q', 'await_startup', '--timeout', '60']);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    up = true;
  };
  const stop = async (): Promise<void> => {
    if (!up) return;
    await ctl(['-q', 'stop', join(dir, 'rabbitmq.pid')]);
    up = false;
  };
  await start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    node,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    ctl,
    destroy: async () => {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
